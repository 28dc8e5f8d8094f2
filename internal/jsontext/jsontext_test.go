package jsontext

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []struct {
		json string
		want error
	}{
		{`{"a":"b"}`, nil},
		{`{"a":"\\u0000"}`, nil}, // an escaped backslash, then text
		{`{"a":"x\u0000"}`, ErrNUL},
		{`{"a\u0000":1}`, ErrNUL},
		{`["\\\u0000"]`, ErrNUL},
		{`{"a":"\u00001"}`, ErrNUL},
		{`{"a":"\u0001"}`, nil},
		{"{\"a\":\"\xff\"}", ErrInvalidUTF8},
		{deep(MaxDepth), nil},
		{deep(MaxDepth + 1), ErrTooDeep},
		{`{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}`, nil}, // brackets in strings do not count
	}
	for _, c := range cases {
		if !json.Valid([]byte(c.json)) {
			t.Fatalf("test case %q is not JSON", c.json)
		}
		if got := Check([]byte(c.json)); !errors.Is(got, c.want) {
			t.Errorf("Check(%q) = %v, want %v", c.json, got, c.want)
		}
	}
}

func TestCheckString(t *testing.T) {
	for s, want := range map[string]error{"ok": nil, "a\x00b": ErrNUL, "\xff\xfe": ErrInvalidUTF8, "é": nil} {
		if got := CheckString(s); !errors.Is(got, want) {
			t.Errorf("CheckString(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzCheck: Check never panics, and JSON it accepts decodes in Go
// without a NUL in any string.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"\u0000"}`, "\"\xff\"", strings.Repeat("[", 100), `"\\"`, `"\`, `["\u000"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if Check(data) != nil || !json.Valid(data) {
			return
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("valid JSON does not decode: %v", err)
		}
		if strings.ContainsRune(flatten(v), 0) {
			t.Fatalf("accepted JSON with a NUL: %q", data)
		}
	})
}

func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(flatten(e))
		}
		return b.String()
	case map[string]any:
		var b strings.Builder
		for k, e := range x {
			b.WriteString(k)
			b.WriteString(flatten(e))
		}
		return b.String()
	}
	return ""
}

// BenchmarkCheck: the text rule over a typical message event's JSON
// (about 1 KB), the cost every request body and PDU pays.
func BenchmarkCheck(b *testing.B) {
	ev := []byte(`{"type":"m.room.message","room_id":"!abcdefghijklmnop:example.org","sender":"@alice:example.org",` +
		`"content":{"msgtype":"m.text","body":"` + strings.Repeat("hello world, ", 60) + `","m.relates_to":{"rel_type":"m.thread","event_id":"$abc"}},` +
		`"origin_server_ts":1700000000000,"unsigned":{"age":10},"auth_events":["$a","$b","$c"],"prev_events":["$d"],"depth":42}`)
	b.SetBytes(int64(len(ev)))
	for b.Loop() {
		if err := Check(ev); err != nil {
			b.Fatal(err)
		}
	}
}
