package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestServerNotices: a notice sent through the admin API invites the user
// to a notices room from the notices user; once joined, the user's /sync
// has the notice in that room's timeline and the m.server_notice tag; a
// second notice goes to the same room; a non-admin is refused.
func TestServerNotices(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = func(cfg *config.Config) { cfg.ServerNotices.Enabled = true }
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "root")
		bob := inst.Register("bob", "password1")
		notice := map[string]any{"user_id": bob.UserID.String(), "content": map[string]any{
			"msgtype": "m.server_notice", "body": "Maintenance at 10:00", "server_notice_type": "m.server_notice.usage_limit_reached"}}

		if r := adminDo(t, bob, "POST", "/v1/send_server_notice", notice); r.Status != 403 || r.errcode() != "M_FORBIDDEN" {
			t.Fatalf("non-admin: %d %v", r.Status, r.Body)
		}
		first := adminDo(t, admin, "POST", "/v1/send_server_notice", notice)
		if first.Status != 200 || first.Body["event_id"] == nil {
			t.Fatalf("send: %d %v", first.Status, first.Body)
		}

		var room id.RoomID
		syncUntil(t, bob, "", 30*time.Second, func(r *mautrix.RespSync) bool {
			for roomID, inv := range r.Rooms.Invite {
				for _, ev := range inv.State.Events {
					if ev.Type == event.StateMember && ev.Sender == inst.UserID("notices") {
						room = roomID
					}
				}
			}
			return room != ""
		})
		// The invite cannot be rejected (spec).
		if r := roomsDo(t, bob, "POST", "/_matrix/client/v3/rooms/"+string(room)+"/leave", map[string]any{}); r.Status != 403 || r.errcode() != "M_CANNOT_LEAVE_SERVER_NOTICE_ROOM" {
			t.Fatalf("rejecting the notices invite: %d %v", r.Status, r.Body)
		}
		_, err := bob.JoinRoomByID(syncCtx, room)
		must(t, err)
		second := adminDo(t, admin, "POST", "/v1/send_server_notice", map[string]any{"user_id": bob.UserID.String(),
			"content": map[string]any{"msgtype": "m.server_notice", "body": "Done"}})
		if second.Status != 200 {
			t.Fatalf("second notice: %d %v", second.Status, second.Body)
		}

		// A fresh initial sync shows the room with both notices and the tag.
		var bodies []string
		tagged := false
		syncUntil(t, bob, "", 30*time.Second, func(r *mautrix.RespSync) bool {
			j, ok := r.Rooms.Join[room]
			if !ok {
				return false
			}
			bodies = nil
			for _, ev := range j.Timeline.Events {
				if ev.Type == event.EventMessage && ev.Sender == inst.UserID("notices") {
					var c struct{ MsgType, Body string }
					_ = json.Unmarshal(ev.Content.VeryRaw, &c)
					if c.MsgType == "m.server_notice" {
						bodies = append(bodies, c.Body)
					}
				}
			}
			for _, ev := range j.AccountData.Events {
				if ev.Type == event.AccountDataRoomTags && json.Valid(ev.Content.VeryRaw) {
					var tags struct {
						Tags map[string]any `json:"tags"`
					}
					_ = json.Unmarshal(ev.Content.VeryRaw, &tags)
					_, tagged = tags.Tags["m.server_notice"]
				}
			}
			return len(bodies) == 2 && tagged
		})
		if bodies[0] != "Maintenance at 10:00" || bodies[1] != "Done" {
			t.Fatalf("notices in the room: %v", bodies)
		}
		// Bob cannot write into it.
		if _, err := bob.SendText(syncCtx, room, "hi"); roomsErrCode(err) != "M_FORBIDDEN" {
			t.Fatalf("user writing to the notices room: %v", err)
		}
		// A transaction ID makes a notice idempotent.
		put := func(txn string) string {
			t.Helper()
			r := adminDo(t, admin, "PUT", "/v1/send_server_notice/"+txn, notice)
			if r.Status != 200 {
				t.Fatalf("PUT notice %s: %d %v", txn, r.Status, r.Body)
			}
			id, _ := r.Body["event_id"].(string)
			return id
		}
		if a, b, c := put("t1"), put("t1"), put("t2"); a == "" || a != b || a == c {
			t.Fatalf("txn notices: t1 %q then %q, t2 %q", a, b, c)
		}
		// Leaving after joining is allowed; the next notice invites the
		// user back into the same room.
		if _, err := bob.LeaveRoom(syncCtx, room); err != nil {
			t.Fatalf("leaving the joined notices room: %v", err)
		}
		if r := adminDo(t, admin, "POST", "/v1/send_server_notice", notice); r.Status != 200 {
			t.Fatalf("notice after leaving: %d %v", r.Status, r.Body)
		}
		syncUntil(t, bob, "", 30*time.Second, func(r *mautrix.RespSync) bool {
			_, ok := r.Rooms.Invite[room]
			return ok && len(r.Rooms.Invite) == 1
		})
		if r := adminDo(t, admin, "POST", "/v1/send_server_notice", map[string]any{"user_id": "@nobody:" + inst.Cfg.ServerName, "content": map[string]any{"body": "x"}}); r.Status != 404 {
			t.Fatalf("unknown user: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "POST", "/v1/send_server_notice", map[string]any{"user_id": bob.UserID.String(), "content": "nope"}); r.Status != 400 {
			t.Fatalf("bad content: %d %v", r.Status, r.Body)
		}
	})
}
