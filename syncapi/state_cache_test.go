package syncapi

import (
	"fmt"
	"testing"

	"github.com/axon-hs/axon/syncapi/types"
)

func memberEvent(id, user, content string) *types.Event {
	return &types.Event{EventID: id, Type: "m.room.member", StateKey: &user, Membership: "join",
		JSON: []byte(fmt.Sprintf(`{"type":"m.room.member","state_key":%q,"content":%s}`, user, content))}
}

// Display names carried over by withDelta must equal those built from
// scratch: changed, dropped and new names included.
func TestRoomStateDisplayNamesAcrossDeltas(t *testing.T) {
	a := memberEvent("$a1", "@a:x", `{"membership":"join","displayname":"Alice"}`)
	b := memberEvent("$b1", "@b:x", `{"membership":"join","displayname":"Bob"}`)
	c := memberEvent("$c1", "@c:x", `{"membership":"join","displayname":"Carol"}`)
	rs := newRoomState([]*types.Event{a, b, c})
	if got := rs.displayName("@a:x"); got != "Alice" {
		t.Fatalf("before: %q", got)
	}
	next := rs.withDelta([]string{"$a1", "$b1"}, []*types.Event{
		memberEvent("$a2", "@a:x", `{"membership":"join","displayname":"Alicia"}`),
		memberEvent("$b2", "@b:x", `{"membership":"join"}`),
		memberEvent("$d1", "@d:x", `{"membership":"join","displayname":"Dan"}`),
	})
	fresh := newRoomState(next.all())
	for _, u := range []string{"@a:x", "@b:x", "@c:x", "@d:x", "@e:x"} {
		if got, want := next.displayName(u), fresh.displayName(u); got != want {
			t.Errorf("%s: carried %q, built %q", u, got, want)
		}
	}
	if next.displayName("@a:x") != "Alicia" || next.displayName("@b:x") != "" {
		t.Errorf("names not updated: %q %q", next.displayName("@a:x"), next.displayName("@b:x"))
	}
}
