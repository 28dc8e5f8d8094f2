package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAppserviceBridge runs a real mautrix bridge against Axon: its bot
// and a ghost register with the as_token, an invite reaches the bridge,
// the ghost joins by masquerading, messages flow both ways exactly once,
// namespaces are exclusive, alias queries create rooms, ephemeral and
// to-device data arrive, ping works.
func TestAppserviceBridge(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		br := newTestBridge(t, "bridge", func(reg *appserviceRegistration) { reg.Protocols, reg.MSC3202 = []string{"irc"}, true })
		inst := startWithBridges(t, opts, map[string]string{"bridge": "org.matrix.msc4203.receive_to_device: true\n"}, br)
		server := inst.Cfg.ServerName

		bot := br.AS.BotIntent()
		if err := bot.EnsureRegistered(asCtx); err != nil {
			t.Fatalf("bot registration: %v", err)
		}
		ghostID := id.NewUserID("_bridge_alice", server)
		ghost := br.AS.Intent(ghostID)
		if err := ghost.EnsureRegistered(asCtx); err != nil {
			t.Fatalf("ghost registration: %v", err)
		}
		if who, err := ghost.Whoami(asCtx); err != nil || who.UserID != ghostID {
			t.Fatalf("whoami as ghost: %+v %v", who, err)
		}

		// Ping reaches the bridge's /_matrix/app/v1/ping with the hs_token.
		if resp, err := br.AS.BotClient().AppservicePing(asCtx, "bridge", "ping-1"); err != nil || resp.DurationMS < 0 {
			t.Fatalf("ping: %+v %v", resp, err)
		}
		other := newTestBridge(t, "other", nil)
		acctExpect(t, "ping of another appservice", asRaw(t, inst, br, "POST", "/_matrix/client/v1/appservice/other/ping", "", map[string]any{}), http.StatusForbidden, "M_FORBIDDEN")
		_ = other

		// A normal user invites the ghost; the bridge sees the invite and
		// joins as the ghost.
		alice := inst.Register("alice", "password123")
		room, err := alice.CreateRoom(asCtx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{ghostID}})
		if err != nil {
			t.Fatal(err)
		}
		br.waitFor("the invite in a transaction", func() bool {
			for _, ev := range br.events() {
				if ev.Type == "m.room.member" && ev.StateKey != nil && *ev.StateKey == ghostID.String() && ev.Content["membership"] == "invite" {
					return true
				}
			}
			return false
		})
		if _, err := ghost.JoinRoomByID(asCtx, room.RoomID); err != nil {
			t.Fatalf("ghost join: %v", err)
		}

		// Matrix → bridge, exactly once.
		syncSend(t, alice, room.RoomID, "m2b first")
		syncSend(t, alice, room.RoomID, "m2b second")
		br.waitFor("messages reach the bridge", func() bool { return len(br.bodies("m2b")) >= 2 })
		if got := br.bodies("m2b"); !slices.Equal(got, []string{"m2b first", "m2b second"}) {
			t.Fatalf("bridge got %v", got)
		}
		br.waitFor("mautrix handed the bridge the messages", func() bool { return br.handledCount("m2b second") == 1 })
		if n := br.handledCount("m2b first"); n != 1 {
			t.Fatalf("mautrix handed the bridge %q %d times", "m2b first", n)
		}
		for _, txn := range br.txnsCopy() {
			if !slices.Equal(rawStrings(txn.Ephemeral), rawStrings(txn.MSC2409Ephemeral)) || !slices.Equal(rawStrings(txn.ToDevice), rawStrings(txn.MSC2409ToDevice)) {
				t.Fatalf("stable and MSC2409 sections differ in txn %s", txn.ID)
			}
		}

		// Bridge → Matrix: the ghost's message reaches alice's /sync.
		if _, err := ghost.SendText(asCtx, room.RoomID, "b2m hello"); err != nil {
			t.Fatalf("ghost send: %v", err)
		}
		syncUntil(t, alice, "", 30*time.Second, func(r *mautrix.RespSync) bool {
			return slices.Contains(syncBodies(r.Rooms.Join[room.RoomID].Timeline.Events), "b2m hello")
		})

		// Timestamp massaging: the bridge dates a message as on its network.
		const then = int64(1_600_000_000_000)
		if _, err := ghost.SendMessageEvent(asCtx, room.RoomID, event.EventMessage, map[string]any{"msgtype": "m.text", "body": "b2m old"}, mautrix.ReqSendEvent{Timestamp: then}); err != nil {
			t.Fatalf("massaged send: %v", err)
		}
		br.waitFor("the massaged event", func() bool {
			for _, ev := range br.events() {
				if ev.Content["body"] == "b2m old" {
					return ev.TS == then
				}
			}
			return false
		})

		// Typing and receipts are pushed as ephemeral data with room_id.
		if _, err := alice.UserTyping(asCtx, room.RoomID, true, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		last := syncSend(t, alice, room.RoomID, "m2b read me")
		syncUntil(t, alice, "", 30*time.Second, func(r *mautrix.RespSync) bool { // receipts need the event in syncapi
			return slices.Contains(syncBodies(r.Rooms.Join[room.RoomID].Timeline.Events), "m2b read me")
		})
		if err := alice.SendReceipt(asCtx, room.RoomID, last, event.ReceiptTypeRead, nil); err != nil {
			t.Fatal(err)
		}
		if err := alice.SetPresence(asCtx, mautrix.ReqPresence{Presence: event.PresenceUnavailable, StatusMsg: "away for lunch"}); err != nil {
			t.Fatal(err)
		}
		br.waitFor("typing, receipt and presence pushed", func() bool {
			typing, receipt, presence := false, false, false
			for _, ev := range br.ephemeral() {
				users, _ := ev.Content["user_ids"].([]any)
				typing = typing || (ev.Type == "m.typing" && ev.RoomID == room.RoomID.String() && slices.Contains(users, any(alice.UserID.String())))
				receipt = receipt || (ev.Type == "m.receipt" && ev.RoomID == room.RoomID.String() && ev.Content[last.String()] != nil)
				presence = presence || (ev.Type == "m.presence" && ev.Sender == alice.UserID.String() && ev.Content["status_msg"] == "away for lunch")
			}
			return typing && receipt && presence
		})

		// /login with m.login.application_service gives the ghost a
		// device; device_id masquerading then acts on it, and to-device
		// messages for it are pushed.
		login, err := ghost.Client.Login(asCtx, &mautrix.ReqLogin{
			Type:       mautrix.AuthTypeAppservice,
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: ghostID.String()},
		})
		if err != nil {
			t.Fatalf("appservice login: %v", err)
		}
		who := asRaw(t, inst, br, "GET", "/_matrix/client/v3/account/whoami?device_id="+login.DeviceID.String(), ghostID.String(), nil)
		if who.str("device_id") != login.DeviceID.String() || who.str("user_id") != ghostID.String() {
			t.Fatalf("device masquerading: %s", who.Raw)
		}
		acctExpect(t, "unknown device", asRaw(t, inst, br, "GET", "/_matrix/client/v3/account/whoami?device_id=NOPE", ghostID.String(), nil), http.StatusBadRequest, "M_UNKNOWN_DEVICE")
		// MSC3202: the bridge uploads keys for the ghost's device; its
		// one-time key count rides along with the to-device message below.
		ghostDev := newKeysDevice(t, &mautrix.Client{UserID: ghostID, DeviceID: login.DeviceID})
		up := asRaw(t, inst, br, "POST", "/_matrix/client/v3/keys/upload?device_id="+login.DeviceID.String(), ghostID.String(),
			map[string]any{"device_keys": ghostDev.deviceKeys(t), "one_time_keys": ghostDev.otks(t, "g", 3, false)})
		if up.Status != http.StatusOK {
			t.Fatalf("keys upload as the ghost's device: %s", up.Raw)
		}
		// MSC3202: alice's device list change reaches the bridge (she shares a room with the ghost).
		aliceDev := newKeysDevice(t, alice)
		if r := keysDo(t, alice, "POST", "/keys/upload", map[string]any{"device_keys": aliceDev.deviceKeys(t)}); r.Status != http.StatusOK {
			t.Fatalf("alice keys upload: %s", r.Raw)
		}
		br.waitFor("device list change pushed", func() bool {
			for _, txn := range br.txnsCopy() {
				if txn.DeviceLists != nil && slices.Contains(txn.DeviceLists.Changed, alice.UserID.String()) {
					return true
				}
			}
			return false
		})
		// A user who leaves the only room shared with the bridge's users is "left".
		carol := inst.Register("carol", "password123")
		if _, err := alice.InviteUser(asCtx, room.RoomID, &mautrix.ReqInviteUser{UserID: carol.UserID}); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.JoinRoomByID(asCtx, room.RoomID); err != nil {
			t.Fatal(err)
		}
		if _, err := carol.LeaveRoom(asCtx, room.RoomID); err != nil {
			t.Fatal(err)
		}
		br.waitFor("carol's device list left", func() bool { return br.deviceListsLeft(carol.UserID.String()) })
		if br.deviceListsLeft(alice.UserID.String()) {
			t.Fatal("alice, still sharing a room with the ghost, was listed as left")
		}
		_, err = alice.SendToDevice(asCtx, event.Type{Type: "org.example.hello", Class: event.ToDeviceEventType}, &mautrix.ReqSendToDevice{
			Messages: map[id.UserID]map[id.DeviceID]*event.Content{ghostID: {login.DeviceID: {Raw: map[string]any{"hi": "there"}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		br.waitFor("to-device pushed", func() bool {
			for _, ev := range br.toDevice() {
				if ev.Type == "org.example.hello" && ev.ToUserID == ghostID.String() && ev.ToDevice == login.DeviceID.String() && ev.Sender == alice.UserID.String() {
					return true
				}
			}
			return false
		})
		otkSeen := false
		for _, txn := range br.txnsCopy() {
			if len(txn.ToDevice) > 0 && txn.OTKCounts[ghostID.String()][login.DeviceID.String()]["signed_curve25519"] == 3 {
				otkSeen = true
			}
		}
		if !otkSeen {
			t.Fatal("no transaction carried the ghost device's one-time key count with its to-device message")
		}

		// MSC4190 / v1.17 device management: the appservice creates a
		// device with PUT /devices/{id}, acts on it, deletes it without UIA.
		devClient := br.AS.NewMautrixClient(ghostID)
		if err := devClient.CreateDeviceMSC4190(asCtx, "BRIDGEDEV", "bridge device"); err != nil {
			t.Fatalf("create device: %v", err)
		}
		if who, err := devClient.Whoami(asCtx); err != nil || who.DeviceID != "BRIDGEDEV" {
			t.Fatalf("whoami on the created device: %+v %v", who, err)
		}
		if err := devClient.DeleteDevice(asCtx, "BRIDGEDEV", nil); err != nil {
			t.Fatalf("delete device without UIA: %v", err)
		}
		if _, err := devClient.Whoami(asCtx); !isMatrixErr(err, "M_UNKNOWN_DEVICE") {
			t.Fatalf("deleted device still usable: %v", err)
		}

		// Exclusive namespaces: not for normal users, and an appservice
		// only masquerades inside its own.
		acctExpect(t, "normal registration in the namespace",
			acctDo(t, "POST", inst.URL+"/_matrix/client/v3/register", "", map[string]any{"username": "_bridge_x", "password": "password123"}),
			http.StatusBadRequest, "M_EXCLUSIVE")
		acctExpect(t, "availability in the namespace",
			acctDo(t, "GET", inst.URL+"/_matrix/client/v3/register/available?username=_bridge_x", "", nil), http.StatusBadRequest, "M_EXCLUSIVE")
		_, err = alice.CreateAlias(asCtx, id.RoomAlias("#_bridge_mine:"+server), room.RoomID)
		if !isMatrixErr(err, "M_EXCLUSIVE") {
			t.Fatalf("alias in an exclusive namespace: %v", err)
		}
		acctExpect(t, "masquerade outside the namespace", asRaw(t, inst, br, "GET", "/_matrix/client/v3/account/whoami", alice.UserID.String(), nil), http.StatusForbidden, "M_EXCLUSIVE")
		acctExpect(t, "masquerade as an unregistered ghost", asRaw(t, inst, br, "GET", "/_matrix/client/v3/account/whoami", "@_bridge_nobody:"+server, nil), http.StatusForbidden, "M_FORBIDDEN")
		acctExpect(t, "appservice registration outside the namespace",
			asRaw(t, inst, br, "POST", "/_matrix/client/v3/register", "", map[string]any{"type": "m.login.application_service", "username": "bob"}),
			http.StatusBadRequest, "M_EXCLUSIVE")
		acctExpect(t, "appservice registration with a wrong token",
			acctDo(t, "POST", inst.URL+"/_matrix/client/v3/register", "wrong", map[string]any{"type": "m.login.application_service", "username": "_bridge_y"}),
			http.StatusUnauthorized, "M_UNKNOWN_TOKEN")

		// Alias query: joining an unknown alias in the namespace asks the
		// bridge, which creates the room; the join then succeeds.
		alias := id.RoomAlias("#_bridge_foo:" + server)
		joined, err := alice.JoinRoom(asCtx, alias.String(), nil)
		if err != nil {
			t.Fatalf("join %s: %v", alias, err)
		}
		if resolved, err := alice.ResolveAlias(asCtx, alias); err != nil || resolved.RoomID != joined.RoomID {
			t.Fatalf("alias resolves to %+v %v, joined %s", resolved, err, joined.RoomID)
		}
		// Network directory: the bridge lists the bridged room for its
		// network; /publicRooms shows it only for that instance.
		path := "/_matrix/client/v3/directory/list/appservice/irc/" + joined.RoomID.String()
		acctExpect(t, "network listing by a normal user", acctDo(t, "PUT", inst.URL+path, alice.AccessToken, map[string]any{"visibility": "public"}), http.StatusForbidden, "M_FORBIDDEN")
		if r := asRaw(t, inst, br, "PUT", path, "", map[string]any{"visibility": "public"}); r.Status != http.StatusOK {
			t.Fatalf("network listing: %s", r.Raw)
		}
		listed := func(body map[string]any) bool {
			r := acctDo(t, "POST", inst.URL+"/_matrix/client/v3/publicRooms", alice.AccessToken, body)
			chunk, _ := r.Body["chunk"].([]any)
			for _, c := range chunk {
				if m, _ := c.(map[string]any); m["room_id"] == joined.RoomID.String() {
					return true
				}
			}
			return false
		}
		if !listed(map[string]any{"third_party_instance_id": "bridge|irc"}) || !listed(map[string]any{"include_all_networks": true}) || listed(map[string]any{}) {
			t.Fatal("network directory listing wrong")
		}
		acctExpect(t, "both network filters", acctDo(t, "POST", inst.URL+"/_matrix/client/v3/publicRooms", alice.AccessToken,
			map[string]any{"include_all_networks": true, "third_party_instance_id": "bridge|irc"}), http.StatusBadRequest, "M_INVALID_PARAM")

		// Third-party lookups are proxied to the bridge declaring the protocol.
		protos := acctDo(t, "GET", inst.URL+"/_matrix/client/v3/thirdparty/protocols", alice.AccessToken, nil)
		irc, _ := protos.Body["irc"].(map[string]any)
		instances, _ := irc["instances"].([]any)
		if len(instances) != 1 || instances[0].(map[string]any)["instance_id"] != "bridge|libera" {
			t.Fatalf("protocols: %s", protos.Raw)
		}
		acctExpect(t, "unknown protocol", acctDo(t, "GET", inst.URL+"/_matrix/client/v3/thirdparty/protocol/xmpp", alice.AccessToken, nil), http.StatusNotFound, "M_NOT_FOUND")
		locs, err := acctTryList(inst.URL+"/_matrix/client/v3/thirdparty/location/irc?channel=matrix&access_token="+alice.AccessToken, "")
		if err != nil || len(locs) != 1 || locs[0]["protocol"] != "irc" || br.sawQuery("access_token") {
			t.Fatalf("location lookup: %v %v", locs, err)
		}
		users, err := acctTryList(inst.URL+"/_matrix/client/v3/thirdparty/user?userid="+url.QueryEscape(ghostID.String()), alice.AccessToken)
		if err != nil || len(users) != 1 || users[0]["userid"] != ghostID.String() {
			t.Fatalf("reverse user lookup: %v %v", users, err)
		}

		// User query: the profile of an unknown ghost makes the bridge create it.
		if _, err := alice.GetProfile(asCtx, id.NewUserID("_bridge_carol", server)); err != nil {
			t.Fatalf("profile of a ghost the bridge creates on demand: %v", err)
		}
		if _, err := alice.GetProfile(asCtx, id.NewUserID("nobody", server)); !isMatrixErr(err, "M_NOT_FOUND") {
			t.Fatalf("profile outside namespaces: %v", err)
		}
	})
}

func rawStrings(raws []jsonRaw) []string {
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i] = string(r)
	}
	return out
}

// TestAppserviceBridgeDownAndAxonRestart: events sent while the bridge is
// down arrive when it returns, all of them, once, in order; a restart of
// Axon with a queue pending loses nothing.
func TestAppserviceBridgeDownAndAxonRestart(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) { bridgeDownAndAxonRestart(t, opts) })
}

func bridgeDownAndAxonRestart(t *testing.T, opts testserver.Options) {
	br := newTestBridge(t, "bridge", nil)
	inst := startWithBridges(t, opts, nil, br)
	ghostID := id.NewUserID("_bridge_bob", inst.Cfg.ServerName)
	ghost := br.AS.Intent(ghostID)
	if err := ghost.EnsureRegistered(asCtx); err != nil {
		t.Fatal(err)
	}
	alice := inst.Register("alice", "password123")
	room := syncRoom(t, alice)
	if _, err := alice.InviteUser(asCtx, room, &mautrix.ReqInviteUser{UserID: ghostID}); err != nil {
		t.Fatal(err)
	}
	if _, err := ghost.JoinRoomByID(asCtx, room); err != nil {
		t.Fatal(err)
	}

	br.stop()
	var want []string
	for i := range 100 {
		want = append(want, fmt.Sprintf("down %03d", i))
		syncSend(t, alice, room, want[i])
	}
	br.start()
	// Real bridges ping on start-up: delivery resumes at once.
	if _, err := br.AS.BotClient().AppservicePing(asCtx, "bridge", ""); err != nil {
		t.Fatalf("ping: %v", err)
	}
	br.waitFor("all 100 events after the bridge returned", func() bool { return len(br.bodies("down")) >= 100 })
	if got := br.bodies("down"); !slices.Equal(got, want) {
		t.Fatalf("bridge got %d events, out of order or duplicated: %v", len(got), got)
	}

	// Axon restarts while events are queued for the (again down) bridge.
	br.stop()
	want = nil
	for i := range 30 {
		want = append(want, fmt.Sprintf("restart %03d", i))
		syncSend(t, alice, room, want[i])
	}
	inst = inst.Restart()
	br.start()
	if _, err := br.AS.BotClient().AppservicePing(asCtx, "bridge", ""); err != nil {
		t.Fatalf("ping after restart: %v", err)
	}
	br.waitFor("events queued across the restart", func() bool { return len(br.bodies("restart")) >= 30 })
	if got := br.bodies("restart"); !slices.Equal(got, want) {
		t.Fatalf("after restart the bridge got %v", got)
	}
	_ = inst
}

// TestAppserviceSlowBridgeDoesNotDelayOthers: a bridge that never answers
// holds up only its own queue.
func TestAppserviceSlowBridgeDoesNotDelayOthers(t *testing.T) {
	roomsNS := func(reg *appserviceRegistration) {
		reg.Namespaces.RoomIDs = append(reg.Namespaces.RoomIDs, appserviceNamespace{Regex: "!.*", Exclusive: false})
	}
	slow := newTestBridge(t, "slow", roomsNS)
	slow.Block = make(chan struct{})
	fast := newTestBridge(t, "fast", roomsNS)
	inst := startWithBridges(t, testserver.Options{}, nil, slow, fast)
	alice := inst.Register("alice", "password123")
	room := syncRoom(t, alice)
	for i := range 5 {
		syncSend(t, alice, room, fmt.Sprintf("both %d", i))
	}
	fast.waitFor("the fast bridge gets every event while the slow one hangs", func() bool { return len(fast.bodies("both")) == 5 })
	if n := len(slow.txnsCopy()); n != 0 {
		t.Fatalf("the blocked bridge completed %d transactions", n)
	}
}

// TestAppserviceRateLimits: with rate_limited: false the bridge's users
// are not limited, a normal user is.
func TestAppserviceRateLimits(t *testing.T) {
	br := newTestBridge(t, "bridge", nil)
	opts := testserver.Options{Configure: func(cfg *config.Config) {
		cfg.RateLimits.Enabled = true
		cfg.RateLimits.Messages = config.Rate{PerSecond: 0.01, Burst: 3}
	}}
	inst := startWithBridges(t, opts, nil, br)
	ghostID := id.NewUserID("_bridge_fast", inst.Cfg.ServerName)
	ghost := br.AS.Intent(ghostID)
	if err := ghost.EnsureRegistered(asCtx); err != nil {
		t.Fatal(err)
	}
	room, err := ghost.CreateRoom(asCtx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := ghost.SendText(asCtx, room.RoomID, fmt.Sprintf("unlimited %d", i)); err != nil {
			t.Fatalf("ghost message %d: %v", i, err)
		}
	}
	alice := inst.Register("alice", "password123")
	if _, err := alice.JoinRoomByID(asCtx, room.RoomID); err != nil {
		t.Fatal(err)
	}
	limited := false
	for i := range 10 {
		r := roomsDo(t, alice, "PUT", fmt.Sprintf("/_matrix/client/v3/rooms/%s/send/m.room.message/t%d", room.RoomID, i), map[string]any{"msgtype": "m.text", "body": "x"})
		if r.errcode() == "M_LIMIT_EXCEEDED" {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("a normal user was never rate-limited")
	}
}

// TestAppserviceFederationQueries: another server's directory and profile
// queries for unknown entities in a bridge's namespaces ask the bridge.
func TestAppserviceFederationQueries(t *testing.T) {
	br := newTestBridge(t, "bridge", nil)
	a := startWithBridges(t, testserver.Options{Configure: testserver.FederatedAt(t, "127.0.0.1")}, nil, br)
	b := fedStart(t, testserver.Options{}, "127.0.0.2")
	alias := "#_bridge_fed:" + a.Cfg.ServerName
	got, err := b.Server.Fed.QueryRoomAlias(asCtx, alias)
	if err != nil || got.RoomID == "" {
		t.Fatalf("remote directory query: %+v %v", got, err)
	}
	if roomID, err := br.AS.BotClient().ResolveAlias(asCtx, id.RoomAlias(alias)); err != nil || roomID.RoomID.String() != got.RoomID {
		t.Fatalf("alias the bridge created: %+v %v", roomID, err)
	}
	ghost := "@_bridge_remote:" + a.Cfg.ServerName
	if _, err := b.Server.Fed.QueryProfile(asCtx, matrixid.UserID(ghost), ""); err != nil {
		t.Fatalf("remote profile query of a ghost created on demand: %v", err)
	}
	if _, err := b.Server.Fed.QueryProfile(asCtx, matrixid.UserID("@nobody:"+a.Cfg.ServerName), ""); err == nil {
		t.Fatal("profile of an unknown user outside namespaces")
	}
}

// TestAppserviceRetrySameTransaction: a bridge that fails a transaction
// gets the same txnId with the same events again, and nothing more is
// added to it meanwhile.
func TestAppserviceRetrySameTransaction(t *testing.T) {
	name := "retry" + randomHex(t) // metrics are per process: a label of its own
	br := newTestBridge(t, name, func(reg *appserviceRegistration) {
		reg.Namespaces.RoomIDs = append(reg.Namespaces.RoomIDs, appserviceNamespace{Regex: "!.*"})
	})
	br.FailFirst = 2
	inst := startWithBridges(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.Listeners.Metrics.Address = "127.0.0.1:0" }}, nil, br)
	alice := inst.Register("alice", "password123")
	room := syncRoom(t, alice)
	syncSend(t, alice, room, "retry 1")
	br.waitFor("the bridge failed twice", func() bool {
		br.mu.Lock()
		defer br.mu.Unlock()
		return len(br.attempts) == 2
	})
	syncSend(t, alice, room, "retry 2")
	br.waitFor("both messages delivered", func() bool { return len(br.bodies("retry")) == 2 })
	br.mu.Lock()
	attempts := append([]asTxn(nil), br.attempts...)
	br.mu.Unlock()
	first := br.txnsCopy()[0]
	for _, a := range attempts {
		if a.ID != first.ID || !slices.Equal(rawStrings(a.Events), rawStrings(first.Events)) {
			t.Fatalf("retry changed the transaction: attempt %s %d events, delivered %s %d events", a.ID, len(a.Events), first.ID, len(first.Events))
		}
	}
	if got := br.bodies("retry"); !slices.Equal(got, []string{"retry 1", "retry 2"}) {
		t.Fatalf("delivered %v", got)
	}
	// Operators see it: failures counted, the bridge up again, nothing queued.
	for _, want := range []string{
		`axon_appservice_failed_transactions_total{appservice="` + name + `"} 2`,
		`axon_appservice_up{appservice="` + name + `"} 1`,
		`axon_appservice_queue_depth{appservice="` + name + `"} 0`,
	} {
		testutil.Eventually(t, 10*time.Second, "metric "+want, func() bool {
			return strings.Contains(acctRawGet(t, "http://"+inst.Server.Addr("metrics")+"/metrics"), want)
		})
	}
}
