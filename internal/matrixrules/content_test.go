package matrixrules

import (
	"strings"
	"testing"
)

func TestCheckLocalEvent(t *testing.T) {
	sk := func(s string) *string { return &s }
	long := strings.Repeat("x", 256)
	cases := []struct {
		name, evType string
		stateKey     *string
		content      string
		sender       string
		want         string
	}{
		{"message", "m.room.message", nil, `{"body":"hi"}`, "@a:hs", ""},
		{"empty type", "", nil, `{}`, "@a:hs", "event type must not be empty"},
		{"long type", long, nil, `{}`, "@a:hs", "event type is too long or not text"},
		{"bad utf8 type", "m.\xff", nil, `{}`, "@a:hs", "event type is too long or not text"},
		{"long state key", "m.x", sk(long), `{}`, "@a:hs", "state key is too long or not text"},
		{"array content", "m.x", nil, `[]`, "@a:hs", "content must be a JSON object"},
		{"no content", "m.x", nil, ``, "@a:hs", "content must be a JSON object"},
		{"bad sender", "m.x", nil, `{}`, "a:hs", "invalid sender"},
		{"NUL in type", "m.\x00", nil, `{}`, "@a:hs", "event type is too long or not text"},
		{"NUL in content", "m.x", nil, `{"a":"\u0000"}`, "@a:hs", "content refused: text contains a NUL character"},
		{"member without state key", "m.room.member", nil, `{"membership":"join"}`, "@a:hs", "m.room.member needs a state key"},
		{"member state key not a user", "m.room.member", sk("bob"), `{"membership":"join"}`, "@a:hs", "m.room.member state key must be a user ID"},
		{"member without membership", "m.room.member", sk("@a:hs"), `{"membership":1}`, "@a:hs", "m.room.member content needs a membership string"},
		{"member", "m.room.member", sk("@a:hs"), `{"membership":"join"}`, "@a:hs", ""},
	}
	for _, c := range cases {
		if got := CheckLocalEvent(c.evType, c.stateKey, []byte(c.content), c.sender); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCheckCanonicalAliasShape(t *testing.T) {
	cases := []struct {
		content string
		want    []string
		msg     string
	}{
		{`{}`, nil, ""},
		{`{"alias":"#a:hs","alt_aliases":["#b:hs",""]}`, []string{"#a:hs", "#b:hs"}, ""},
		{`{"alias":1}`, nil, "alias must be a string"},
		{`{"alt_aliases":"#b:hs"}`, nil, "alt_aliases must be an array"},
	}
	for _, c := range cases {
		got, msg := CheckCanonicalAliasShape([]byte(c.content))
		if msg != c.msg || strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: %v %q", c.content, got, msg)
		}
	}
}

func TestValidRoomAlias(t *testing.T) {
	for alias, want := range map[string]bool{
		"#a:hs": true, "#a:hs:8448": true, "a:hs": false, "#:hs": false, "#a:": false, "#a": false,
		"#a b:hs": false, "#" + strings.Repeat("a", 253) + ":h": false, "#" + strings.Repeat("a", 252) + ":h": true,
	} {
		if ValidRoomAlias(alias) != want {
			t.Errorf("%q: want %v", alias, want)
		}
	}
}
