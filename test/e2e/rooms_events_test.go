package e2e

import (
	"fmt"
	"strings"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/server/testserver"
)

func TestRoomsSendTxnAndRedaction(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		roomID := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		_, err := bob.JoinRoomByID(roomsCtx, roomID)
		roomsNoErr(t, err)

		// Same txnId → same event, also after a restart.
		content := map[string]string{"msgtype": "m.text", "body": "once"}
		first, err := alice.SendMessageEvent(roomsCtx, roomID, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: "txn-1"})
		roomsNoErr(t, err)
		again, err := alice.SendMessageEvent(roomsCtx, roomID, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: "txn-1"})
		roomsNoErr(t, err)
		if again.EventID != first.EventID {
			t.Fatalf("txn not idempotent: %s vs %s", first.EventID, again.EventID)
		}
		inst = inst.Restart() // same address: the clients keep working
		afterRestart, err := alice.SendMessageEvent(roomsCtx, roomID, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: "txn-1"})
		roomsNoErr(t, err)
		if afterRestart.EventID != first.EventID {
			t.Fatalf("txn forgotten after restart: %s vs %s", first.EventID, afterRestart.EventID)
		}
		other, err := alice.SendMessageEvent(roomsCtx, roomID, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: "txn-2"})
		roomsNoErr(t, err)
		if other.EventID == first.EventID {
			t.Fatal("different txn gave the same event")
		}

		// GET /event in client format.
		ev, err := bob.GetEvent(roomsCtx, roomID, first.EventID)
		roomsNoErr(t, err)
		if ev.Sender != alice.UserID || ev.RoomID != roomID || ev.Content.Raw["body"] != "once" || ev.Timestamp == 0 {
			t.Fatalf("event %+v", ev)
		}

		// Redaction: bob (level 0) may not redact alice's event; alice may.
		_, err = bob.RedactEvent(roomsCtx, roomID, first.EventID)
		roomsExpectErr(t, err, "M_FORBIDDEN", "redact someone else's event at level 0")
		red, err := alice.RedactEvent(roomsCtx, roomID, first.EventID, mautrix.ReqRedact{Reason: "oops"})
		roomsNoErr(t, err)
		ev, err = bob.GetEvent(roomsCtx, roomID, first.EventID)
		roomsNoErr(t, err)
		if len(ev.Content.Raw) != 0 {
			t.Fatalf("redacted content still served: %v", ev.Content.Raw)
		}
		if ev.Unsigned.RedactedBecause == nil || ev.Unsigned.RedactedBecause.ID != red.EventID {
			t.Fatalf("redacted_because %+v", ev.Unsigned.RedactedBecause)
		}

		// State put/get, with and without a state key.
		_, err = alice.SendStateEvent(roomsCtx, roomID, event.NewEventType("org.example.thing"), "a/b", map[string]int{"n": 1})
		roomsNoErr(t, err)
		var thing map[string]int
		roomsNoErr(t, alice.StateEvent(roomsCtx, roomID, event.NewEventType("org.example.thing"), "a/b", &thing))
		if thing["n"] != 1 {
			t.Fatalf("state %v", thing)
		}
		r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/org.example.nokey", map[string]int{"n": 2})
		if r.Status != 200 {
			t.Fatalf("state without key: %v", r.Body)
		}
		r = roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/org.example.nokey/?format=event", nil)
		if r.Status != 200 || r.Body["type"] != "org.example.nokey" || r.Body["state_key"] != "" {
			t.Fatalf("format=event: %v", r.Body)
		}
		state, err := alice.State(roomsCtx, roomID)
		roomsNoErr(t, err)
		if state[event.StateCreate] == nil || len(state[event.StateMember]) != 2 {
			t.Fatalf("state map %v", state)
		}

		// Bad input.
		big := strings.Repeat("x", 70000)
		_, err = alice.SendText(roomsCtx, roomID, big)
		roomsExpectErr(t, err, "M_TOO_LARGE", "64 KiB limit")
		r = roomsDo(t, alice, "PUT", "/_matrix/client/v3/rooms/"+string(roomID)+"/state/m.room.member/notauser", map[string]string{"membership": "join"})
		if r.Status != 400 || r.errcode() != "M_BAD_JSON" {
			t.Fatalf("bad member state key: %d %v", r.Status, r.Body)
		}
		for i, body := range []string{`[1,2]`, `null`, `"text"`} {
			r = roomsDo(t, alice, "PUT", fmt.Sprintf("/_matrix/client/v3/rooms/%s/send/m.room.message/t9-%d", roomID, i), body)
			if r.Status != 400 || r.errcode() != "M_BAD_JSON" {
				t.Fatalf("content %s: %d %v, want 400 M_BAD_JSON", body, r.Status, r.Body)
			}
		}
		r = roomsDo(t, alice, "PUT", "/_matrix/client/v3/rooms/!nope:"+inst.Cfg.ServerName+"/send/m.room.message/t9", `{}`)
		if r.Status != 404 && r.Status != 403 {
			t.Fatalf("unknown room: %d %v", r.Status, r.Body)
		}
		r = roomsDo(t, alice, "GET", "/_matrix/client/v3/rooms/"+string(roomID)+"/event/$nope", nil)
		if r.Status != 404 || r.errcode() != "M_NOT_FOUND" {
			t.Fatalf("unknown event: %d %v", r.Status, r.Body)
		}
		r = roomsDo(t, alice, "GET", "/_matrix/client/v1/rooms/"+string(roomID)+"/timestamp_to_event?ts=0&dir=f", nil)
		if r.Status != 200 || r.Body["event_id"] == "" {
			t.Fatalf("timestamp_to_event: %d %v", r.Status, r.Body)
		}
	})
}
