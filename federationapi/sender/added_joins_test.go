package sender

import (
	"context"
	"encoding/json"
	"maps"
	"testing"

	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// addedJoins reads the joins among a state change's added events (a join
// over federation carries the room's whole state): joins map to their
// user's server; leaves, invites and other state do not count.
func TestAddedJoinsFromAddedState(t *testing.T) {
	room := "!r:far.org"
	own := member(t, "me.org", room, "@me:me.org", "join")
	farJoin := member(t, "far.org", room, "@x:far.org", "join")
	otherJoin := member(t, "other.org", room, "@y:other.org", "join")
	leave := member(t, "gone.org", room, "@z:gone.org", "leave")
	invite := memberOf(t, "far.org", room, "@x:far.org", "@w:invited.org", "invite")
	ore := &rsapi.OutputNewRoomEvent{RoomID: room, RoomVersion: "10", EventID: own.EventID(), Event: own.JSON()}
	for _, e := range []interface {
		EventID() string
		JSON() []byte
	}{farJoin, otherJoin, leave, invite} {
		ore.AddsStateEventIDs = append(ore.AddsStateEventIDs, e.EventID())
		ore.AddedStateEvents = append(ore.AddedStateEvents, json.RawMessage(e.JSON()))
		ore.AddedStateEventIDs = append(ore.AddedStateEventIDs, e.EventID())
	}
	ore.AddsStateEventIDs = append(ore.AddsStateEventIDs, own.EventID())
	got, err := (&RoomEvents{Rooms: noEvents{}}).addedJoins(context.Background(), ore)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{farJoin.EventID(): "far.org", otherJoin.EventID(): "other.org", own.EventID(): "me.org"}
	if !maps.Equal(got, want) {
		t.Fatalf("joins %v, want %v", got, want)
	}
}
