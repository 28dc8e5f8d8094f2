package pushrules

import (
	"reflect"
	"testing"
)

// TestCompileDefaultsIsCompile: the shared compilation of the defaults is
// the same as compiling a user's defaults alone, for users whose IDs the
// rules must match exactly.
func TestCompileDefaultsIsCompile(t *testing.T) {
	for _, u := range []string{"@alice:hs", "@bob.smith:example.org:8448", `@we*ird[?]:hs`} {
		got, want := CompileDefaults(u), Compile(Defaults(u))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CompileDefaults(%q) differs from Compile(Defaults(%q))", u, u)
		}
	}
	// Mentions and invites of one user do not reach another's shared copy.
	alice, bob := CompileDefaults("@alice:hs"), CompileDefaults("@bob:hs")
	ev := NewEvent([]byte(`{"type":"m.room.message","content":{"body":"x","m.mentions":{"user_ids":["@alice:hs"]}}}`))
	if r := alice.Evaluate(ev, &Context{UserID: "@alice:hs", MemberCount: 3}); !r.Highlight {
		t.Errorf("alice mentioned: rule %s, no highlight", r.RuleID)
	}
	ev = NewEvent([]byte(`{"type":"m.room.message","content":{"body":"x","m.mentions":{"user_ids":["@alice:hs"]}}}`))
	if r := bob.Evaluate(ev, &Context{UserID: "@bob:hs", MemberCount: 3}); r.Highlight {
		t.Errorf("bob highlighted by alice's mention: rule %s", r.RuleID)
	}
}
