package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

const pushWithin = 30 * time.Second

// TestPushDelivery drives pushers end to end against a real local push
// gateway: counts, priority, formats, badge updates, rejected pushkeys,
// a gateway outage and an Axon restart.
func TestPushDelivery(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = allowLoopbackGateways
		inst := testserver.Start(t, opts)
		gw := newPushGateway(t)
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		carol := inst.Register("carol", "password1")
		room := syncRoom(t, alice, bob, carol) // three members: messages are not one-to-one

		if r := pushSet(t, bob, gw, "full", nil, nil); r.Status != 200 {
			t.Fatalf("set pusher: %d %v", r.Status, r.Body)
		}
		if r := pushSet(t, bob, gw, "idonly", map[string]any{"format": "event_id_only", "custom": "x"}, nil); r.Status != 200 {
			t.Fatalf("set event_id_only pusher: %d %v", r.Status, r.Body)
		}
		if keys := pushKeys(t, bob); !slices.Equal(keys, []string{"full", "idonly"}) {
			t.Fatalf("GET /pushers: %v", keys)
		}

		// A plain message: low priority, one unread, full content to
		// "full", only IDs to "idonly" (with its data minus url).
		hello := string(syncSend(t, alice, room, "hello"))
		testutil.Eventually(t, pushWithin, "notify for hello", func() bool {
			return len(gw.find("full", forEvent(hello))) > 0 && len(gw.find("idonly", forEvent(hello))) > 0
		})
		full := gw.find("full", forEvent(hello))[0]
		if full.Prio != "low" || full.Counts["unread"] != 1 || full.Type != "m.room.message" || full.Sender != alice.UserID.String() ||
			full.RoomID != room.String() || !jsonHas(full.Content, "body", "hello") || full.SenderDisplayName != "alice" {
			t.Fatalf("full notification: %+v", full)
		}
		idonly := gw.find("idonly", forEvent(hello))[0]
		if idonly.Content != nil || idonly.Sender != "" || idonly.Type != "" || idonly.Counts["unread"] != 1 {
			t.Fatalf("event_id_only notification carries event fields: %+v", idonly)
		}
		if d := idonly.Devices[0]; string(d.Data["format"]) != `"event_id_only"` || string(d.Data["custom"]) != `"x"` || d.Data["url"] != nil || d.AppID != "org.example.app" {
			t.Fatalf("device data: %+v", d)
		}

		// A mention highlights: high priority, highlight tweak, two unread.
		mention := sendMention(t, alice, room, bob.UserID)
		testutil.Eventually(t, pushWithin, "notify for mention", func() bool { return len(gw.find("full", forEvent(mention))) > 0 })
		m := gw.find("full", forEvent(mention))[0]
		if m.Prio != "high" || m.Counts["unread"] != 2 || string(m.Devices[0].Tweaks["highlight"]) != "true" {
			t.Fatalf("mention notification: %+v", m)
		}
		// Alice's own message does not notify Alice (she has no pusher
		// anyway) and Bob's message does not notify Bob.
		own := string(syncSend(t, bob, room, "from bob"))

		// Reading clears the badge: a counts-only notify with unread 0.
		// (The receipt is refused until syncapi has applied the event.)
		testutil.Eventually(t, pushWithin, "receipt", func() bool {
			return bob.SendReceipt(syncCtx, room, id.EventID(own), event.ReceiptTypeRead, nil) == nil
		})
		testutil.Eventually(t, pushWithin, "badge update", func() bool {
			return len(gw.find("full", func(n pushNotify) bool { return n.EventID == "" && n.Counts["unread"] == 0 })) > 0
		})
		if n := gw.find("full", forEvent(own)); len(n) != 0 {
			t.Fatalf("bob was notified of his own message: %+v", n)
		}

		// The gateway rejects "idonly": that pusher is removed.
		gw.reject("idonly")
		rej := string(syncSend(t, alice, room, "rejected"))
		testutil.Eventually(t, pushWithin, "rejected pusher removed", func() bool { return !slices.Contains(pushKeys(t, bob), "idonly") })
		testutil.Eventually(t, pushWithin, "notify after reject", func() bool { return len(gw.find("full", forEvent(rej))) > 0 })

		// Gateway down, then up: nothing is lost.
		gw.setDown(true)
		down1 := string(syncSend(t, alice, room, "while down 1"))
		down2 := string(syncSend(t, alice, room, "while down 2"))
		gw.setDown(false)
		testutil.Eventually(t, pushWithin, "delivery after the gateway is back", func() bool {
			return len(gw.find("full", forEvent(down1))) > 0 && len(gw.find("full", forEvent(down2))) > 0
		})

		// Axon restarts while the gateway is down: delivered after both are back.
		gw.setDown(true)
		before := string(syncSend(t, alice, room, "before restart"))
		inst.Restart()
		gw.setDown(false)
		testutil.Eventually(t, pushWithin, "delivery after restart", func() bool { return len(gw.find("full", forEvent(before))) > 0 })
		if keys := pushKeys(t, bob); !slices.Equal(keys, []string{"full"}) {
			t.Fatalf("pushers after restart: %v", keys)
		}

		// A pushkey set by another user moves (append false) ...
		if r := pushSet(t, carol, gw, "full", nil, nil); r.Status != 200 {
			t.Fatalf("carol set pusher: %d %v", r.Status, r.Body)
		}
		if keys := pushKeys(t, bob); len(keys) != 0 {
			t.Fatalf("bob kept a pushkey carol took: %v", keys)
		}
		// ... or is shared with append true.
		if r := pushSet(t, bob, gw, "full", nil, map[string]any{"append": true}); r.Status != 200 {
			t.Fatalf("append pusher: %d %v", r.Status, r.Body)
		}
		if len(pushKeys(t, carol)) != 1 || len(pushKeys(t, bob)) != 1 {
			t.Fatalf("append removed the other user's pusher")
		}
		// kind null deletes.
		r := roomsDo(t, carol, "POST", "/_matrix/client/v3/pushers/set", map[string]any{"kind": nil, "app_id": "org.example.app", "pushkey": "full"})
		if r.Status != 200 || len(pushKeys(t, carol)) != 0 {
			t.Fatalf("delete pusher: %d %v, left %v", r.Status, r.Body, pushKeys(t, carol))
		}
	})
}

// TestPushersBadInput checks that bad pusher requests get clear errors.
func TestPushersBadInput(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	gw := newPushGateway(t)
	c := inst.Register("alice", "password1")
	set := func(body any) roomsRaw { return roomsDo(t, c, "POST", "/_matrix/client/v3/pushers/set", body) }
	cases := []struct {
		name    string
		body    any
		errcode string
	}{
		{"not json", "{", "M_NOT_JSON"},
		{"no kind", map[string]any{"app_id": "a", "pushkey": "k"}, "M_MISSING_PARAM"},
		{"no lang", map[string]any{"kind": "http", "app_id": "a", "pushkey": "k", "app_display_name": "A", "device_display_name": "D", "data": map[string]any{"url": gw.url()}}, "M_MISSING_PARAM"},
		{"no url", map[string]any{"kind": "http", "app_id": "a", "pushkey": "k", "app_display_name": "A", "device_display_name": "D", "lang": "en", "data": map[string]any{}}, "M_MISSING_PARAM"},
		{"bad url", map[string]any{"kind": "http", "app_id": "a", "pushkey": "k", "app_display_name": "A", "device_display_name": "D", "lang": "en", "data": map[string]any{"url": "ftp://x/y"}}, "M_INVALID_PARAM"},
		{"email", map[string]any{"kind": "email", "app_id": "m.email", "pushkey": "a@b.c", "app_display_name": "A", "device_display_name": "D", "lang": "en", "data": map[string]any{}}, "M_INVALID_PARAM"},
		{"kind number", map[string]any{"kind": 5, "app_id": "a", "pushkey": "k", "app_display_name": "A", "device_display_name": "D", "lang": "en", "data": map[string]any{"url": gw.url()}}, "M_BAD_JSON"},
		{"long app_id", map[string]any{"kind": nil, "app_id": strings.Repeat("a", 65), "pushkey": "k"}, "M_INVALID_PARAM"},
	}
	for _, tc := range cases {
		if r := set(tc.body); r.Status != 400 || r.errcode() != tc.errcode {
			t.Errorf("%s: got %d %v, want 400 %s", tc.name, r.Status, r.Body, tc.errcode)
		}
	}
}

func sendMention(t testing.TB, c *mautrix.Client, room id.RoomID, who id.UserID) string {
	t.Helper()
	resp, err := c.SendMessageEvent(syncCtx, room, event.EventMessage, map[string]any{
		"msgtype": "m.text", "body": "hey " + who.String(), "m.mentions": map[string]any{"user_ids": []string{who.String()}},
	})
	if err != nil {
		t.Fatalf("send mention: %v", err)
	}
	return resp.EventID.String()
}

func jsonHas(raw json.RawMessage, key, want string) bool {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m[key] == want
}

// TestPusherRemovedWithDevice: logging a device out removes the pushers
// it created, not those of the user's other devices.
func TestPusherRemovedWithDevice(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: allowLoopbackGateways})
	gw := newPushGateway(t)
	phone := inst.Register("bob", "password1")
	resp, err := inst.Client().Login(syncCtx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "bob"}, Password: "password1"})
	if err != nil {
		t.Fatal(err)
	}
	tablet := inst.Client()
	tablet.UserID, tablet.AccessToken = resp.UserID, resp.AccessToken
	if r := pushSet(t, phone, gw, "phone", nil, nil); r.Status != 200 {
		t.Fatalf("set: %d %v", r.Status, r.Body)
	}
	if r := pushSet(t, tablet, gw, "tablet", nil, nil); r.Status != 200 {
		t.Fatalf("set: %d %v", r.Status, r.Body)
	}
	if _, err := tablet.Logout(syncCtx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "the tablet's pusher removed", func() bool {
		return slices.Equal(pushKeys(t, phone), []string{"phone"})
	})
}

// TestPushersGoneAfterPasswordChange: a password change signs the other
// devices out, and GET /pushers straight after it no longer lists their
// pushers (the deletion reaches the pushserver before either answers).
func TestPushersGoneAfterPasswordChange(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: allowLoopbackGateways})
	gw := newPushGateway(t)
	password := "password1"
	phone := inst.Register("bob", password)
	for i := range 5 {
		resp, err := inst.Client().Login(syncCtx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "bob"}, Password: password})
		must(t, err)
		tablet := inst.Client()
		tablet.UserID, tablet.AccessToken = resp.UserID, resp.AccessToken
		if r := pushSet(t, tablet, gw, "tablet", nil, nil); r.Status != 200 {
			t.Fatalf("set: %d %v", r.Status, r.Body)
		}
		next := fmt.Sprintf("password%d", i+2)
		r := roomsDo(t, phone, "POST", "/_matrix/client/v3/account/password", map[string]any{"new_password": next,
			"auth": map[string]any{"type": "m.login.password", "identifier": map[string]any{"type": "m.id.user", "user": "bob"}, "password": password}})
		if r.Status != 200 {
			t.Fatalf("change password: %d %v", r.Status, r.Body)
		}
		if got := pushKeys(t, phone); len(got) != 0 {
			t.Fatalf("round %d: pushers right after the password change: %v, want none", i, got)
		}
		password = next
	}
}
