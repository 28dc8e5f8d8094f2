package federationapi

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
)

// authOrder puts every event after its auth events, whatever order they
// came in, and keeps each event once (auth events not among them are
// ignored).
func TestAuthOrder(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	ver := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV10)
	build := func(typ, sk string, auth ...string) gomatrixserverlib.PDU {
		if auth == nil {
			auth = []string{}
		}
		ev, err := ver.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{SenderID: "@a:x.test", RoomID: "!r:x.test",
			Type: typ, StateKey: &sk, Content: []byte(`{}`), PrevEvents: []string{}, AuthEvents: auth, Depth: 1}).
			Build(time.Now(), "x.test", "ed25519:k", key)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	create := build("m.room.create", "")
	member := build("m.room.member", "@a:x.test", create.EventID())
	pl := build("m.room.power_levels", "", create.EventID(), member.EventID())
	var evs []gomatrixserverlib.PDU
	for i := range 50 {
		evs = append(evs, build("org.test", fmt.Sprint(i), create.EventID(), pl.EventID(), member.EventID(), "$unknown"))
	}
	evs = append(evs, pl, member, create, pl) // the chain last, pl twice

	out := authOrder(evs)
	pos := map[string]int{}
	for i, e := range out {
		if _, dup := pos[e.EventID()]; dup {
			t.Fatalf("%s twice", e.EventID())
		}
		pos[e.EventID()] = i
	}
	if len(out) != 53 {
		t.Fatalf("%d events out, want 53", len(out))
	}
	for _, e := range out {
		for _, a := range e.AuthEventIDs() {
			if p, ok := pos[a]; ok && p > pos[e.EventID()] {
				t.Fatalf("%s before its auth event %s", e.Type(), a)
			}
		}
	}
}
