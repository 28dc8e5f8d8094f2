package roomserver

import (
	"context"
	"github.com/matrix-org/gomatrixserverlib"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

func TestCreateRoomAllVersions(t *testing.T) {
	rs, _ := newTestServer(t, storagetest.SQLiteDSN(t))
	for _, v := range matrixrules.SupportedVersions {
		t.Run("v"+v, func(t *testing.T) {
			alice := "@alice:" + testServer
			roomID := createTestRoom(t, rs, alice, v, "public")
			got, err := rs.QueryRoomVersion(context.Background(), matrixid.RoomID(roomID))
			if err != nil || got != v {
				t.Fatalf("version %q %v", got, err)
			}
			res := send(t, rs, local(roomID, alice, "m.room.message", nil, map[string]any{"body": "hi", "msgtype": "m.text"}))
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			bob := "@bob:" + testServer
			if res := send(t, rs, local(roomID, bob, "m.room.member", strp(bob), map[string]any{"membership": "join"})); res.Err != nil {
				t.Fatal(res.Err)
			}
			if err := rs.CheckDAG(context.Background(), roomID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUnsupportedVersion(t *testing.T) {
	rs, _ := newTestServer(t, storagetest.SQLiteDSN(t))
	create := local("", "@a:"+testServer, "m.room.create", strp(""), map[string]any{})
	create.Local.RoomVersion = "99"
	resp, err := rs.InputRoomEvents(context.Background(), &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{create}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Results[0].Err == nil || resp.Results[0].Err.Code != api.CodeVersion {
		t.Fatalf("got %+v", resp.Results[0])
	}
}

func TestAuthRejection(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rs, pub := newTestServer(t, b.NewDSN(t))
			alice, mallory := "@alice:"+testServer, "@mallory:"+testServer
			roomID := createTestRoom(t, rs, alice, "10", "invite")
			before := len(pub.outputs())
			// Not invited: cannot join an invite-only room.
			res := send(t, rs, local(roomID, mallory, "m.room.member", strp(mallory), map[string]any{"membership": "join"}))
			if res.Err == nil || res.Err.Code != api.CodeForbidden {
				t.Fatalf("join: %+v", res)
			}
			// Not in the room: cannot send.
			res = send(t, rs, local(roomID, mallory, "m.room.message", nil, map[string]any{"body": "x"}))
			if res.Err == nil || res.Err.Code != api.CodeForbidden {
				t.Fatalf("send: %+v", res)
			}
			if got := len(pub.outputs()); got != before {
				t.Fatalf("rejected events were output: %d -> %d", before, got)
			}
			m, _, err := rs.QueryMembership(context.Background(), matrixid.RoomID(roomID), matrixid.UserID(mallory))
			if err != nil || m != "" {
				t.Fatalf("membership %q %v", m, err)
			}
			// Bad input.
			res = send(t, rs, local(roomID, alice, "m.room.member", strp("not-a-user"), map[string]any{"membership": "join"}))
			if res.Err == nil || res.Err.Code != api.CodeBadJSON {
				t.Fatalf("bad state key: %+v", res)
			}
			big := make([]byte, 70000)
			for i := range big {
				big[i] = 'a'
			}
			res = send(t, rs, local(roomID, alice, "m.room.message", nil, map[string]any{"body": string(big)}))
			if res.Err == nil || res.Err.Code != api.CodeTooLarge {
				t.Fatalf("big: %+v", res.Err)
			}
		})
	}
}

// TestTxnIdempotent: a repeated transaction ID gets the first event's
// ID and stores nothing, from memory and, after a restart, from the
// table (on PostgreSQL through the claim in the event's insert).
func TestTxnIdempotent(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testTxnIdempotent(t, b.NewDSN(t)) })
	}
}

func testTxnIdempotent(t *testing.T, dsn string) {
	rs, pub := newTestServer(t, dsn)
	alice := "@alice:" + testServer
	roomID := createTestRoom(t, rs, alice, "10", "public")
	ev := local(roomID, alice, "m.room.message", nil, map[string]any{"body": "once"})
	ev.TransactionID = &api.TransactionID{DeviceID: "DEV", TransactionID: "t1"}
	first := send(t, rs, ev)
	second := send(t, rs, ev)
	if first.Err != nil || second.EventID != first.EventID || !second.Duplicate {
		t.Fatalf("first %+v second %+v", first, second)
	}
	// A fresh server on the same database (restart) still knows it, from
	// the database (its memory is empty): it stores and publishes nothing.
	rs2, pub2 := newTestServer(t, dsn)
	third := send(t, rs2, ev)
	if third.EventID != first.EventID || !third.Duplicate {
		t.Fatalf("after restart %+v", third)
	}
	// The room goes on from the first event: the next message follows it.
	next := send(t, rs2, local(roomID, alice, "m.room.message", nil, map[string]any{"body": "next"}))
	if next.Err != nil {
		t.Fatalf("next: %+v", next.Err)
	}
	// (It publishes the first server's retained outputs again, outbox.Retain.)
	known := map[string]bool{string(next.EventID): true}
	for _, o := range pub.outputs() {
		if o.NewRoomEvent != nil {
			known[o.NewRoomEvent.EventID] = true
		}
	}
	for _, o := range pub2.outputs() {
		if o.NewRoomEvent != nil && !known[o.NewRoomEvent.EventID] {
			t.Errorf("restarted server published a new event %s for the repeat", o.NewRoomEvent.EventID)
		}
	}
	evs, err := rs2.eventsByID(context.Background(), rs2.db, gomatrixserverlib.MustGetRoomVersion("10"), []string{string(next.EventID)})
	if err != nil || evs[string(next.EventID)] == nil {
		t.Fatalf("next event not stored: %v", err)
	}
	prev := evs[string(next.EventID)].pdu.PrevEventIDs()
	if len(prev) != 1 || prev[0] != string(first.EventID) {
		t.Fatalf("next event's prev_events = %v, want [%s]", prev, first.EventID)
	}
}
