package httputil

import (
	"strings"
	"testing"
)

// FuzzUnmarshalJSON: the request decoder never panics, refuses with a
// 4xx Matrix error, and what it accepts holds no NUL in any string and
// nests no deeper than the limit. The seed corpus (NUL bytes, invalid
// UTF-8, deep nesting, huge arrays) runs in every `go test`.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `[`, `"x"`, `{"n":"1"}`, "\xff", `{"auth":{"type":"m.login.dummy"}}`, `{"a":"b"}`, `{"a":"\u0000"}`, `{"\u0000":1}`, `["\\u0000"]`, "{\"a\":\"\xff\xfe\"}",
		"{\"a\":\"\x00\"}", `{"a":"\ud800"}`, "\xef\xbb\xbf{}",
		strings.Repeat(`[`, 64) + strings.Repeat(`]`, 64), strings.Repeat(`[`, 65) + strings.Repeat(`]`, 65),
		strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat(`}`, 10001),
		`{"list":[` + strings.Repeat(`1,`, 100000) + `1]}`, `{"list":[` + strings.Repeat(`{},`, 20000) + `{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		resp := UnmarshalJSON(data, &v)
		if resp != nil {
			if resp.Code < 400 || resp.Code >= 500 {
				t.Fatalf("refusal with status %d", resp.Code)
			}
			if e, ok := resp.JSON.(*MatrixError); !ok || (e.ErrCode != "M_BAD_JSON" && e.ErrCode != "M_NOT_JSON") {
				t.Fatalf("refusal without M_BAD_JSON/M_NOT_JSON: %+v", resp.JSON)
			}
			return
		}
		if d := depth(v); d > 64 {
			t.Fatalf("accepted JSON nested %d deep", d)
		}
		if hasNUL(v) {
			t.Fatalf("accepted a NUL: %q", data)
		}
	})
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}
