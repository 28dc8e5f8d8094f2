package jsontext

import (
	"testing"
	"unsafe"

	"github.com/tidwall/gjson"
)

func TestParseInPlace(t *testing.T) {
	js := []byte(`{"a":"text","b":[1,2],"c":{"d":null}}`)
	got := ParseInPlace(js)
	if got.Raw != gjson.ParseBytes(js).Raw || got.Get("a").Str != "text" || got.Get("b.1").Int() != 2 || !got.Get("c.d").Exists() {
		t.Fatalf("parsed %q", got.Raw)
	}
	// The string points into js: no copy was made.
	s := got.Get("a").Str
	if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); p < uintptr(unsafe.Pointer(&js[0])) || p >= uintptr(unsafe.Pointer(&js[0]))+uintptr(len(js)) {
		t.Error("a copy")
	}
	if ParseInPlace(nil).Exists() || ParseInPlace([]byte{}).Exists() {
		t.Error("empty input parsed as a value")
	}
}
