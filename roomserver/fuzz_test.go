package roomserver

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// FuzzLocalEvent feeds arbitrary type/state key/content through the local
// event path: it must never panic or fail internally, only accept or
// reject with a client error. The seeds run in every `go test`.
func FuzzLocalEvent(f *testing.F) {
	f.Add("m.room.message", false, "", `{"body":"hi"}`)
	f.Add("m.room.member", true, "@x:test.local", `{"membership":"join"}`)
	f.Add("m.room.member", true, "not-a-user", `{"membership":"join"}`)
	f.Add("m.room.member", true, "@alice:test.local", `{"membership":5}`)
	f.Add("m.room.power_levels", true, "", `{"users":{"@alice:test.local":"high"}}`)
	f.Add("m.room.power_levels", true, "", `{"ban":1e400}`)
	f.Add("m.room.create", true, "", `{}`)
	f.Add("m.room.redaction", false, "", `{"redacts":"$nope"}`)
	f.Add("m.room.join_rules", true, "", `{"join_rule":"restricted","allow":[{"type":"m.room_membership"}]}`)
	f.Add("", false, "", `{}`)
	f.Add("m.room.message", false, "", `[]`)
	f.Add("m.room.message", false, "", `{"a":"\ud800"}`)
	f.Add("m.room.third_party_invite", true, "tok", `{"public_key":"x"}`)
	rs, _ := newTestServer(f, storagetest.SQLiteDSN(f))
	alice := "@alice:" + testServer
	roomID := createTestRoom(f, rs, alice, "10", "public")
	f.Fuzz(func(t *testing.T, typ string, isState bool, stateKey, content string) {
		var sk *string
		if isState {
			sk = &stateKey
		}
		ev := api.InputRoomEvent{Kind: api.KindNew, Local: &api.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(alice), Type: matrixid.EventType(typ), StateKey: sk, Content: []byte(content)}}
		resp, err := rs.InputRoomEvents(context.Background(), &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{ev}})
		if err != nil {
			t.Fatalf("internal error: %v", err)
		}
		if res := resp.Results[0]; res.Err == nil && res.EventID == "" {
			t.Fatal("accepted without an event ID")
		}
	})
}
