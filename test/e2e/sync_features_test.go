package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
)

// TestSyncLazyLoadMembers: with lazy_load_members the state carries only
// the member events of timeline senders.
func TestSyncLazyLoadMembers(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		carol := inst.Register("carol", "password123")
		room := syncRoom(t, alice, bob, carol)
		for i := 0; i < 5; i++ {
			syncSend(t, bob, room, "from bob")
		}
		resp := syncOnce(t, alice, "", 0, `{"room":{"timeline":{"limit":3},"state":{"lazy_load_members":true}}}`)
		jr := resp.Rooms.Join[room]
		if jr == nil {
			t.Fatal("room missing")
		}
		members := map[string]bool{}
		for _, ev := range jr.State.Events {
			if ev.Type == event.StateMember {
				members[*ev.StateKey] = true
			}
		}
		if !members[string(bob.UserID)] || members[string(carol.UserID)] {
			t.Fatalf("lazy-loaded members %v", members)
		}
		// Carol speaks for the first time after that sync: the next
		// (gapless) incremental sync must carry her member event.
		syncSend(t, carol, room, "from carol")
		since := resp.NextBatch
		testutil.Eventually(t, 10*time.Second, "the new speaker's member event in an incremental lazy-loading sync", func() bool {
			inc := syncOnce(t, alice, since, 2000, `{"room":{"timeline":{"limit":10},"state":{"lazy_load_members":true}}}`)
			since = inc.NextBatch
			if jr := inc.Rooms.Join[room]; jr != nil {
				for _, ev := range jr.State.Events {
					if ev.Type == event.StateMember && *ev.StateKey == string(carol.UserID) {
						return true
					}
				}
			}
			return false
		})
		// Once sent, it is not sent again, unless the filter asks for
		// redundant members.
		memberOf := func(filter string) (seenMsg, seenMember bool) {
			syncSend(t, carol, room, "carol again")
			testutil.Within(10*time.Second, func() bool {
				inc := syncOnce(t, alice, resp.NextBatch, 2000, filter)
				resp.NextBatch = inc.NextBatch
				jr := inc.Rooms.Join[room]
				if jr == nil {
					return false
				}
				seenMsg = len(syncBodies(jr.Timeline.Events)) > 0
				for _, ev := range jr.State.Events {
					if ev.Type == event.StateMember && *ev.StateKey == string(carol.UserID) {
						seenMember = true
					}
				}
				return seenMsg
			})
			return seenMsg, seenMember
		}
		resp.NextBatch = syncOnce(t, alice, "", 0, `{"room":{"timeline":{"limit":1},"state":{"lazy_load_members":true}}}`).NextBatch
		// The initial sync above (timeline: carol's last message) sent
		// carol's member event; an incremental one must not repeat it.
		if msg, member := memberOf(`{"room":{"timeline":{"limit":10},"state":{"lazy_load_members":true}}}`); !msg || member {
			t.Fatalf("redundant member resent: message %v, member %v", msg, member)
		}
		if msg, member := memberOf(`{"room":{"timeline":{"limit":10},"state":{"lazy_load_members":true,"include_redundant_members":true}}}`); !msg || !member {
			t.Fatalf("include_redundant_members ignored: message %v, member %v", msg, member)
		}
		full := syncOnce(t, alice, "", 0, `{"room":{"timeline":{"limit":3}}}`)
		n := 0
		for _, ev := range full.Rooms.Join[room].State.Events {
			if ev.Type == event.StateMember {
				n++
			}
		}
		if n != 3 {
			t.Fatalf("full state has %d members, want 3", n)
		}
	})
}

// TestSyncInviteAndLeave: invites show stripped state under rooms.invite;
// after leaving, the room moves to rooms.leave with the timeline up to
// the leave and nothing later.
func TestSyncInviteAndLeave(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		resp, err := alice.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		room := resp.RoomID
		since := syncOnce(t, bob, "", 0, "").NextBatch
		if _, err := alice.InviteUser(syncCtx, room, &mautrix.ReqInviteUser{UserID: bob.UserID}); err != nil {
			t.Fatal(err)
		}
		since = syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
			ir, ok := r.Rooms.Invite[room]
			if !ok {
				return false
			}
			hasName := false
			for _, ev := range ir.State.Events {
				if ev.Type == event.StateRoomName {
					hasName = true
				}
			}
			if !hasName {
				t.Fatalf("invite_state lacks the room name")
			}
			return true
		})
		if _, err := bob.JoinRoomByID(syncCtx, room); err != nil {
			t.Fatal(err)
		}
		syncSend(t, alice, room, "while joined")
		since = syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
			jr, ok := r.Rooms.Join[room]
			return ok && len(syncBodies(jr.Timeline.Events)) > 0
		})
		if _, err := bob.LeaveRoom(syncCtx, room); err != nil {
			t.Fatal(err)
		}
		syncSend(t, alice, room, "after leave")
		syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
			lr, ok := r.Rooms.Leave[room]
			if !ok {
				return false
			}
			for _, b := range syncBodies(lr.Timeline.Events) {
				if b == "after leave" {
					t.Fatalf("left user sees a later message")
				}
			}
			return true
		})
		// /messages after leaving stops at the leave.
		m, err := bob.Messages(syncCtx, room, "", "", mautrix.DirectionBackward, nil, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range syncBodies(m.Chunk) {
			if b == "after leave" {
				t.Fatalf("/messages shows a message after the leave")
			}
		}
	})
}

// TestSyncTypingReceiptsToDevice: typing and receipts reach the other
// user; to-device is delivered exactly once.
func TestSyncTypingReceiptsToDevice(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		evID := syncSend(t, alice, room, "read me")
		since := syncOnce(t, bob, "", 0, "").NextBatch
		if _, err := alice.UserTyping(syncCtx, room, true, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		since = syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
			jr, ok := r.Rooms.Join[room]
			if !ok {
				return false
			}
			for _, ev := range jr.Ephemeral.Events {
				if ev.Type == event.EphemeralEventTyping {
					var c struct {
						UserIDs []string `json:"user_ids"`
					}
					_ = json.Unmarshal(ev.Content.VeryRaw, &c)
					return len(c.UserIDs) == 1 && c.UserIDs[0] == string(alice.UserID)
				}
			}
			return false
		})
		if err := alice.MarkRead(syncCtx, room, evID); err != nil {
			t.Fatal(err)
		}
		since = syncUntil(t, bob, since, 10*time.Second, func(r *mautrix.RespSync) bool {
			jr, ok := r.Rooms.Join[room]
			if !ok {
				return false
			}
			for _, ev := range jr.Ephemeral.Events {
				if ev.Type == event.EphemeralEventReceipt {
					var c map[string]map[string]map[string]any
					_ = json.Unmarshal(ev.Content.VeryRaw, &c)
					if _, ok := c[string(evID)]["m.read"][string(alice.UserID)]; ok {
						return true
					}
				}
			}
			return false
		})
		// To-device, sent twice with the same txn ID, arrives once.
		body := map[string]any{"messages": map[string]any{string(bob.UserID): map[string]any{string(bob.DeviceID): map[string]any{"hello": "bob"}}}}
		for i := 0; i < 2; i++ {
			r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/sendToDevice/org.example.test/txn1", body)
			if r.Status != http.StatusOK {
				t.Fatalf("sendToDevice: %d %v", r.Status, r.Body)
			}
		}
		// A marker with another txn ID, sent after: to-device messages reach
		// a device in order, so a duplicate would arrive before it.
		marker := map[string]any{"messages": map[string]any{string(bob.UserID): map[string]any{string(bob.DeviceID): map[string]any{"marker": true}}}}
		if r := roomsDo(t, alice, "PUT", "/_matrix/client/v3/sendToDevice/org.example.test/txn2", marker); r.Status != http.StatusOK {
			t.Fatalf("sendToDevice: %d %v", r.Status, r.Body)
		}
		count := 0
		testutil.Eventually(t, 10*time.Second, "the marker to-device message", func() bool {
			r := syncOnce(t, bob, since, 1000, "")
			since = r.NextBatch
			for _, ev := range r.ToDevice.Events {
				if ev.Content.Raw["marker"] == true {
					return true
				}
				count++
			}
			return false
		})
		if count != 1 {
			t.Fatalf("to-device delivered %d times", count)
		}
	})
}

// TestSyncRestartMidStream: after a restart the next /sync continues from
// the old token with nothing lost or repeated.
func TestSyncRestartMidStream(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		bob := inst.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		since := syncOnce(t, bob, "", 0, "").NextBatch
		for i := 0; i < 5; i++ {
			syncSend(t, alice, room, "pre")
		}
		resp := syncOnce(t, bob, since, 0, `{"room":{"timeline":{"limit":50}}}`)
		since = resp.NextBatch
		seen := len(syncBodies(resp.Rooms.Join[room].Timeline.Events))
		for i := 0; i < 5; i++ {
			syncSend(t, alice, room, "mid")
		}
		inst = inst.Restart()
		alice.HomeserverURL, bob.HomeserverURL = mustURL(t, inst.URL), mustURL(t, inst.URL)
		for i := 0; i < 5; i++ {
			syncSend(t, alice, room, "post")
		}
		var got []string
		testutil.Eventually(t, 10*time.Second, "the 10 messages sent around the restart", func() bool {
			r := syncOnce(t, bob, since, 1000, `{"room":{"timeline":{"limit":50}}}`)
			since = r.NextBatch
			if jr, ok := r.Rooms.Join[room]; ok {
				got = append(got, syncBodies(jr.Timeline.Events)...)
			}
			return len(got) >= 10
		})
		if seen != 5 || len(got) != 10 {
			t.Fatalf("before restart %d, after %d: %v", seen, len(got), got)
		}
		for i, b := range got {
			want := "mid"
			if i >= 5 {
				want = "post"
			}
			if b != want {
				t.Fatalf("after restart: %v", got)
			}
		}
		r := syncOnce(t, bob, since, 200, "")
		if jr, ok := r.Rooms.Join[room]; ok && len(jr.Timeline.Events) > 0 {
			t.Fatalf("repeated after restart: %v", syncBodies(jr.Timeline.Events))
		}
	})
}

// TestSyncBadInput: bad tokens and filters are 400s with the right codes.
func TestSyncBadInput(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		room := syncRoom(t, alice)
		v3 := "/_matrix/client/v3"
		cases := []struct {
			method, path string
			body         any
			status       int
			errcode      string
		}{
			{"GET", v3 + "/sync?since=garbage", nil, 400, "M_INVALID_PARAM"},
			{"GET", v3 + "/sync?since=s1_x", nil, 400, "M_INVALID_PARAM"},
			{"GET", v3 + "/sync?timeout=soon", nil, 400, "M_INVALID_PARAM"},
			{"GET", v3 + "/sync?filter=%7Bnope", nil, 400, "M_BAD_JSON"},
			{"GET", v3 + "/sync?filter=%7B%22room%22%3A5%7D", nil, 400, "M_BAD_JSON"},
			{"GET", v3 + "/sync?filter=12345", nil, 400, "M_INVALID_PARAM"},
			{"GET", v3 + "/sync?set_presence=dancing", nil, 400, "M_INVALID_PARAM"},
			{"POST", v3 + "/user/" + string(alice.UserID) + "/filter", `{"room":{"timeline":{"limit":"ten"}}}`, 400, "M_BAD_JSON"},
			{"POST", v3 + "/user/" + string(alice.UserID) + "/filter", `{`, 400, "M_NOT_JSON"},
			{"POST", v3 + "/user/" + string(alice.UserID) + "/filter", `{"room":{"timeline":{"rooms":["not_a_room_id"]}}}`, 400, "M_BAD_JSON"},
			{"POST", v3 + "/user/" + string(alice.UserID) + "/filter", `{"room":{"timeline":{"senders":["not_a_sender_id"]}}}`, 400, "M_BAD_JSON"},
			{"POST", v3 + "/user/@other:x/filter", `{}`, 403, "M_FORBIDDEN"},
			{"GET", v3 + "/user/" + string(alice.UserID) + "/filter/999", nil, 404, "M_NOT_FOUND"},
			{"GET", v3 + "/rooms/" + string(room) + "/messages?from=zzz&dir=b", nil, 400, "M_INVALID_PARAM"},
			{"GET", v3 + "/rooms/" + string(room) + "/messages?dir=x", nil, 400, "M_INVALID_PARAM"},
			{"GET", v3 + "/rooms/" + string(room) + "/messages?dir=b&filter=%7B", nil, 400, "M_BAD_JSON"},
			{"GET", v3 + "/rooms/!nope:x/messages?dir=b", nil, 403, "M_FORBIDDEN"},
			{"GET", v3 + "/rooms/" + string(room) + "/context/$nope", nil, 404, "M_NOT_FOUND"},
			{"PUT", v3 + "/rooms/" + string(room) + "/typing/@other:x", `{"typing":true}`, 403, "M_FORBIDDEN"},
			{"POST", v3 + "/rooms/" + string(room) + "/receipt/m.read/$nope", `{}`, 404, "M_NOT_FOUND"},
			{"POST", v3 + "/rooms/" + string(room) + "/receipt/m.bogus/$nope", `{}`, 400, "M_INVALID_PARAM"},
			{"PUT", v3 + "/presence/" + string(alice.UserID) + "/status", `{"presence":"dancing"}`, 400, "M_INVALID_PARAM"},
			{"PUT", v3 + "/pushrules/global/bogus/x", `{"actions":[]}`, 400, "M_INVALID_PARAM"},
			{"GET", v3 + "/pushrules/global/override/nope", nil, 404, "M_NOT_FOUND"},
			// A rule of a kind this server lacks (MSC4306) does not exist.
			{"GET", v3 + "/pushrules/global/postcontent/.io.element.msc4306.rule.subscribed_thread", nil, 404, "M_NOT_FOUND"},
			{"PUT", v3 + "/pushrules/global/postcontent/x/enabled", `{"enabled":false}`, 404, "M_NOT_FOUND"},
			{"GET", v3 + "/pushrules/device/override/nope", nil, 400, "M_INVALID_PARAM"},
			{"DELETE", v3 + "/pushrules/global/override/.m.rule.master", nil, 400, "M_INVALID_PARAM"},
		}
		for _, c := range cases {
			r := roomsDo(t, alice, c.method, c.path, c.body)
			if r.Status != c.status || r.errcode() != c.errcode {
				t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.Status, r.errcode(), c.status, c.errcode)
			}
		}
		// A stored filter round-trips and works in /sync.
		f, err := alice.CreateFilter(syncCtx, &mautrix.Filter{Room: &mautrix.RoomFilter{Timeline: &mautrix.FilterPart{Limit: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ {
			syncSend(t, alice, room, "x")
		}
		resp := syncOnce(t, alice, "", 0, f.FilterID)
		if n := len(resp.Rooms.Join[room].Timeline.Events); n != 2 {
			t.Fatalf("stored filter limit 2 gave %d events", n)
		}
	})
}
