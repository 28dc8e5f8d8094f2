package federationapi

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"

	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// A send_join state event we cannot store (its auth events failed their
// signature checks, say) is left out of the state the join is placed on,
// instead of the join failing on "missing state events" (Complement
// TestJoinFederatedRoomWithUnverifiableEvents).
func TestImportRoomLeavesOutUnstoredState(t *testing.T) {
	a := startServer(t, storagetest.Backends()[0].NewDSN)
	id := a.api.id
	ver := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV10)
	roomID := "!import:" + a.name
	creator, joiner := "@creator:"+a.name, "@joiner:"+a.name
	depth := int64(0)
	last := []string{}
	build := func(typ, stateKey, sender string, content string, auth ...gomatrixserverlib.PDU) gomatrixserverlib.PDU {
		t.Helper()
		depth++
		ids := []string{}
		for _, e := range auth {
			ids = append(ids, e.EventID())
		}
		ev, err := ver.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{
			SenderID: sender, RoomID: roomID, Type: typ, StateKey: &stateKey, Content: []byte(content),
			PrevEvents: last, AuthEvents: ids, Depth: depth,
		}).Build(time.Now(), id.ServerName, id.KeyID, id.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		last = []string{ev.EventID()}
		return ev
	}
	create := build("m.room.create", "", creator, `{"creator":"`+creator+`","room_version":"10"}`)
	member := build("m.room.member", creator, creator, `{"membership":"join"}`, create)
	pl := build("m.room.power_levels", "", creator, `{"users":{"`+creator+`":100}}`, create, member)
	jr := build("m.room.join_rules", "", creator, `{"join_rule":"public"}`, create, member, pl)
	name := build("m.room.name", "", creator, `{"name":"unstorable"}`, create, member, pl)
	join := build("m.room.member", joiner, joiner, `{"membership":"join"}`, create, pl, jr)
	state := []gomatrixserverlib.PDU{create, member, pl, jr, name}
	a.rooms.mu.Lock()
	a.rooms.refuse = map[string]bool{name.EventID(): true}
	a.rooms.mu.Unlock()
	resp := &fclient.RespState{
		StateEvents: gomatrixserverlib.NewEventJSONsFromEvents(state),
		AuthEvents:  gomatrixserverlib.NewEventJSONsFromEvents(state[:4]),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.api.importRoom(ctx, id.ServerName, ver, join, resp); err != nil {
		t.Fatal(err)
	}
	a.rooms.mu.Lock()
	given := a.rooms.givenState
	a.rooms.mu.Unlock()
	if slices.Contains(given, name.EventID()) {
		t.Fatalf("the join's state names the event that was not stored: %v", given)
	}
	for _, e := range state[:4] {
		if !slices.Contains(given, e.EventID()) {
			t.Fatalf("the join's state lacks %s (%s): %v", e.EventID(), e.Type(), given)
		}
	}
}
