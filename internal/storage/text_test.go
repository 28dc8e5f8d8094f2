package storage

import "testing"

func TestText(t *testing.T) {
	b := []byte(`{"body":"hi"}`)
	if got := Text(b); got != `{"body":"hi"}` {
		t.Fatalf("Text = %q", got)
	}
	if got := Text(nil); got != "" {
		t.Fatalf("Text(nil) = %q", got)
	}
}
