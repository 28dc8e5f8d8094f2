package matrixrules

import (
	"slices"
	"testing"
)

func TestMediaURIs(t *testing.T) {
	content := `{"msgtype":"m.image","url":"mxc://a.org/img","info":{"thumbnail_url":"mxc://a.org/thumb",
		"thumbnail_file":{"url":"mxc://b.org/enc"}},"body":"mxc://a.org/img","list":["mxc://c.org/x","mxc://bad","mxc://c.org/a/b",7],
		"formatted_body":"see mxc://a.org/inline"}`
	got := MediaURIs([]byte(content))
	want := []string{"mxc://a.org/img", "mxc://a.org/thumb", "mxc://b.org/enc", "mxc://c.org/x"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("MediaURIs = %v, want %v", got, want)
	}
	if got := MediaURIs([]byte(`not json`)); len(got) != 0 {
		t.Fatalf("MediaURIs(not json) = %v", got)
	}
	if s, id, ok := SplitMXC("mxc://hs.example:8448/abc"); !ok || s != "hs.example:8448" || id != "abc" {
		t.Fatalf("SplitMXC: %q %q %v", s, id, ok)
	}
}
