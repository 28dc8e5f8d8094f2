package pushrules

import (
	"fmt"
	"strings"
	"testing"
)

// Every user of the domain whose ID MayName finds in an event must be
// among UserIDsEndingIn's candidates (rooms find named members that way
// instead of asking every member).
func TestUserIDsEndingInCoversMayName(t *testing.T) {
	users := []string{"@a:test", "@bob:test", "@a:b:test", "@x@y:test", "@test:test", "@a:test:test", "@long" + strings.Repeat("x", 40) + ":test"}
	events := []string{
		`{"type":"m.room.message","sender":"@a:test","content":{"body":"hi @bob:test and @a:b:test"}}`,
		`{"type":"m.room.member","state_key":"@x@y:test","content":{"membership":"invite"}}`,
		`{"content":{"m.mentions":{"user_ids":["@test:test","@a:test:test"]},"body":"@bob:testing"}}`,
		`{"content":{"body":"mail me at bob@bob:test or @long` + strings.Repeat("x", 40) + `:test"}}`,
		`{"content":{"body":"@a:tes t, :test, @:test"}}`,
	}
	maxLen := 0
	for _, u := range users {
		maxLen = max(maxLen, len(u))
	}
	for i, js := range events {
		ev := NewEvent([]byte(js))
		found := map[string]bool{}
		ev.UserIDsEndingIn("test", maxLen, func(id string) bool { found[id] = true; return true })
		for _, u := range users {
			if ev.MayName(u, "") && !found[u] {
				t.Errorf("event %d: MayName(%s) but not a candidate (got %v)", i, u, keys(found))
			}
		}
	}
	// fn returning false stops the walk.
	n := 0
	NewEvent([]byte(events[0])).UserIDsEndingIn("test", maxLen, func(string) bool { n++; return false })
	if n != 1 {
		t.Fatalf("walk went on after false: %d calls", n)
	}
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return fmt.Sprint(out)
}
