package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// EDUs cross servers: bob@B sees alice@A typing, her read receipt, her
// presence and a to-device message she sends to his device. Then alice
// bans bob: his rooms.leave section ends with the ban and carries the
// room's state at it.
func TestFederationEDUs(t *testing.T) {
	ctx := context.Background()
	a, b := fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	bs := newFedSyncer(t, bob)
	const wait = 20 * time.Second

	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins via A: %v", err)
	}
	bs.until(wait, "bob's join", func() bool { return bs.membershipOf(room, bob.UserID) == "join" })
	as := newFedSyncer(t, alice)
	as.until(wait, "bob's join on A", func() bool { return as.membershipOf(room, bob.UserID) == "join" })

	// Each check follows bob's /sync, collecting what it looks for.
	follow := func(what string, cond func(*mautrix.RespSync) bool) {
		t.Helper()
		testutil.Eventually(t, wait, what+", seen by bob", func() bool {
			resp, err := bob.SyncRequest(ctx, 1000, bs.since, "", false, "")
			if err != nil {
				t.Fatalf("bob syncs: %v", err)
			}
			bs.since = resp.NextBatch
			return cond(resp)
		})
	}
	ephemeral := func(resp *mautrix.RespSync, typ event.Type) []*event.Event {
		r := resp.Rooms.Join[room]
		if r == nil {
			return nil
		}
		var out []*event.Event
		for _, ev := range r.Ephemeral.Events {
			if ev.Type == typ {
				out = append(out, ev)
			}
		}
		return out
	}

	if _, err := alice.UserTyping(ctx, room, true, 30*time.Second); err != nil {
		t.Fatalf("alice types: %v", err)
	}
	follow("alice typing", func(resp *mautrix.RespSync) bool {
		for _, ev := range ephemeral(resp, event.EphemeralEventTyping) {
			var c struct {
				UserIDs []id.UserID `json:"user_ids"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			if slices.Contains(c.UserIDs, alice.UserID) {
				return true
			}
		}
		return false
	})
	if _, err := alice.UserTyping(ctx, room, false, 0); err != nil {
		t.Fatalf("alice stops typing: %v", err)
	}
	follow("alice stopped typing", func(resp *mautrix.RespSync) bool {
		for _, ev := range ephemeral(resp, event.EphemeralEventTyping) {
			var c struct {
				UserIDs []id.UserID `json:"user_ids"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			if !slices.Contains(c.UserIDs, alice.UserID) {
				return true
			}
		}
		return false
	})

	evID := syncSend(t, bob, room, "read me")
	as.until(wait, "bob's message on A", func() bool { return as.hasBody(room, "read me") })
	if err := alice.SendReceipt(ctx, room, evID, event.ReceiptTypeRead, nil); err != nil {
		t.Fatalf("alice sends a receipt: %v", err)
	}
	follow("alice's receipt", func(resp *mautrix.RespSync) bool {
		for _, ev := range ephemeral(resp, event.EphemeralEventReceipt) {
			var c map[id.EventID]map[string]map[id.UserID]json.RawMessage
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			if _, ok := c[evID]["m.read"][alice.UserID]; ok {
				return true
			}
		}
		return false
	})

	status := "over here"
	if err := alice.SetPresence(ctx, mautrix.ReqPresence{Presence: event.PresenceUnavailable, StatusMsg: status}); err != nil {
		t.Fatalf("alice sets presence: %v", err)
	}
	follow("alice's presence", func(resp *mautrix.RespSync) bool {
		for _, ev := range resp.Presence.Events {
			var c struct {
				Presence  string `json:"presence"`
				StatusMsg string `json:"status_msg"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			if ev.Sender == alice.UserID && c.Presence == "unavailable" && c.StatusMsg == status {
				return true
			}
		}
		return false
	})

	_, err := alice.SendToDevice(ctx, event.Type{Type: "org.example.hello", Class: event.ToDeviceEventType}, &mautrix.ReqSendToDevice{
		Messages: map[id.UserID]map[id.DeviceID]*event.Content{
			bob.UserID: {bob.DeviceID: {Raw: map[string]any{"greeting": "hi bob"}}},
		},
	})
	if err != nil {
		t.Fatalf("alice sends to bob's device: %v", err)
	}
	follow("alice's to-device message", func(resp *mautrix.RespSync) bool {
		for _, ev := range resp.ToDevice.Events {
			var c struct {
				Greeting string `json:"greeting"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			if ev.Sender == alice.UserID && ev.Type.Type == "org.example.hello" && c.Greeting == "hi bob" {
				return true
			}
		}
		return false
	})

	if _, err := alice.BanUser(ctx, room, &mautrix.ReqBanUser{UserID: bob.UserID}); err != nil {
		t.Fatalf("alice bans bob: %v", err)
	}
	follow("bob's ban in rooms.leave", func(resp *mautrix.RespSync) bool {
		lr, ok := resp.Rooms.Leave[room]
		if !ok {
			return false
		}
		tl := lr.Timeline.Events
		if len(tl) == 0 || !memberEvent(tl[len(tl)-1:], bob.UserID, "ban") {
			t.Fatalf("bob's leave timeline does not end with his ban (%d events)", len(tl))
		}
		return true
	})
	r := syncOnce(t, bob, "", 0, `{"room":{"include_leave":true,"timeline":{"limit":1}}}`)
	lr := r.Rooms.Leave[room]
	if lr == nil || !memberEvent(lr.Timeline.Events, bob.UserID, "ban") || !memberEvent(lr.State.Events, alice.UserID, "join") {
		t.Fatalf("initial sync with include_leave: no ban in the timeline or no state at the ban")
	}
}
