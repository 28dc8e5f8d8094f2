package roomserver

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

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

// FuzzRemoteStateResolution feeds remote events with arbitrary content
// and arbitrary auth/prev event choices from a forked room into input,
// so event auth and state resolution (v2 and v2.1) see hostile inputs.
// The server must never fail internally (a panic surfaces as
// errInputPanicked): only accept, soft-fail or reject. Seeds run in
// every `go test`.
func FuzzRemoteStateResolution(f *testing.F) {
	f.Add(false, "m.room.name", true, "", `{"name":"x"}`, uint8(0xff), uint8(1))
	f.Add(true, "m.room.name", true, "", `{"name":"x"}`, uint8(0x0f), uint8(3))
	f.Add(true, "m.room.power_levels", true, "", `{"users":{"@bob:other.test":100}}`, uint8(0x3), uint8(2))
	f.Add(false, "m.room.member", true, "@bob:other.test", `{"membership":"leave"}`, uint8(0), uint8(0))
	f.Add(true, "m.room.join_rules", true, "", `{"join_rule":"invite"}`, uint8(0xaa), uint8(0x55))
	f.Add(false, "m.room.message", false, "", `{"body":1}`, uint8(0x80), uint8(0x80))
	type fixture struct {
		rs     *RoomServer
		rem    *remote
		roomID string
		pool   []string // event IDs to pick auth and prev events from
	}
	setUp := func(version string) fixture {
		rs, _ := newTestServer(f, storagetest.SQLiteDSN(f))
		_, key, _ := ed25519.GenerateKey(nil)
		rem := &remote{t: f, rs: rs, key: key, version: version}
		alice, bob := "@alice:"+testServer, "@bob:other.test"
		roomID := createTestRoom(f, rs, alice, version, "public")
		send(f, rs, local(roomID, alice, "m.room.power_levels", strp(""), map[string]any{"users": map[string]int{bob: 50}}))
		ctx := context.Background()
		ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
		if err != nil {
			f.Fatal(err)
		}
		pool := append(ext, matrixid.From[matrixid.EventID](rem.stateIDs(roomID, tCreate, tPL, tJR))...)
		join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
			matrixid.Strings(ext), rem.stateIDs(roomID, tCreate, tPL, tJR), 10, time.Now())
		if res := rem.input(join); res.Err != nil {
			f.Fatal(res.Err)
		}
		pool = append(pool, matrixid.EventID(join.EventID()))
		send(f, rs, local(roomID, alice, "m.room.name", strp(""), map[string]string{"name": "A"}))
		pool = append(pool, matrixid.From[matrixid.EventID](rem.stateIDs(roomID, api.StateKey{Type: "m.room.name"}))...)
		return fixture{rs: rs, rem: rem, roomID: roomID, pool: matrixid.Strings(pool)}
	}
	rooms := map[bool]fixture{false: setUp("10"), true: setUp("12")}
	f.Fuzz(func(t *testing.T, v12 bool, typ string, isState bool, stateKey, content string, authMask, prevMask uint8) {
		fx := rooms[v12]
		pick := func(mask uint8) []string {
			ids := []string{}
			for i, id := range fx.pool {
				if mask&(1<<uint(i%8)) != 0 {
					ids = append(ids, id)
				}
			}
			return ids
		}
		prev := pick(prevMask)
		if len(prev) == 0 {
			prev = fx.pool[:1]
		}
		var sk *string
		if isState {
			sk = &stateKey
		}
		var c any = json.RawMessage(content)
		if !json.Valid([]byte(content)) {
			c = map[string]string{"raw": content}
		}
		ev, err := fx.rem.tryBuild(fx.roomID, "@bob:other.test", typ, sk, c, prev, pick(authMask), 20, time.Now())
		if err != nil {
			t.Skip("not an event a server could send:", err)
		}
		_, err = fx.rs.InputRoomEvents(context.Background(), &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{Kind: api.KindNew, Event: ev}}})
		if err != nil {
			t.Fatalf("internal error: %v", err)
		}
	})
}
