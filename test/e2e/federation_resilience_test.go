package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/server/testserver"
)

// fedJoinedPair: alice's public room on A, bob (on B) joined to it.
func fedJoinedPair(t *testing.T, opts testserver.Options) (a, b *testserver.Instance, alice, bob *mautrix.Client, room id.RoomID) {
	t.Helper()
	a, b = fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
	alice, bob = a.Register("alice", "password123"), b.Register("bob", "password123")
	room = roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if _, err := bob.JoinRoom(context.Background(), room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("bob joins: %v", err)
	}
	return
}

// messageBodies pages /messages backwards and returns every body.
func messageBodies(t *testing.T, c *mautrix.Client, room id.RoomID) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	from := ""
	for range 50 {
		resp, err := c.Messages(context.Background(), room, from, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			t.Fatalf("messages: %v", err)
		}
		for _, b := range syncBodies(resp.Chunk) {
			out[b] = true
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	return out
}

// B is down while A sends 100 messages; after B restarts it has all of
// them (A's sender kept them and retried).
func TestFederationSenderRetryAcrossRestart(t *testing.T) {
	_, b, alice, bob, room := fedJoinedPair(t, testserver.Options{})
	bs := newFedSyncer(t, bob)
	bs.until(20*time.Second, "joined", func() bool { return bs.membershipOf(room, bob.UserID) == "join" })

	b.Stop()
	for i := range 100 {
		syncSend(t, alice, room, fmt.Sprintf("offline %d", i))
	}
	b = b.Restart()
	bob, err := mautrix.NewClient(b.URL, bob.UserID, bob.AccessToken)
	must(t, err)
	// B talking to A ends A's backoff for B at once.
	syncSend(t, bob, room, "back")
	testutil.Eventually(t, 60*time.Second, "all 100 messages on B", func() bool {
		got := messageBodies(t, bob, room)
		for i := range 100 {
			if !got[fmt.Sprintf("offline %d", i)] {
				return false
			}
		}
		return true
	})
}

// A PDU with a bad signature is refused and never stored.
func TestFederationRejectsForgedEvent(t *testing.T) {
	ctx := context.Background()
	a, b, _, bob, room := fedJoinedPair(t, testserver.Options{})
	testutil.Eventually(t, 20*time.Second, "bob joined on A", func() bool {
		m, _, err := a.Server.Rooms.QueryMembership(ctx, matrixid.RoomID(room.String()), matrixid.UserID(bob.UserID.String()))
		must(t, err)
		return m == "join"
	})
	prev, err := a.Server.Rooms.QueryForwardExtremities(ctx, matrixid.RoomID(room.String()))
	if err != nil {
		t.Fatal(err)
	}
	state, err := a.Server.Rooms.QueryCurrentState(ctx, matrixid.RoomID(room.String()), []rsapi.StateKey{
		{Type: "m.room.create"}, {Type: "m.room.power_levels"}, {Type: "m.room.member", StateKey: bob.UserID.String()}})
	if err != nil {
		t.Fatal(err)
	}
	var auth []string
	for _, e := range state {
		auth = append(auth, e.EventID())
	}
	ver := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersion(state[0].Version()))
	sender := bob.UserID.String()
	builder := ver.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{SenderID: sender, RoomID: room.String(),
		Type: "m.room.message", PrevEvents: prev, AuthEvents: auth, Depth: 1000})
	must(t, builder.SetContent(map[string]string{"msgtype": "m.text", "body": "forged"}))
	_, wrongKey, _ := ed25519.GenerateKey(nil)
	forged, err := builder.Build(time.Now(), spec.ServerName(b.Cfg.ServerName), gomatrixserverlib.KeyID(b.Cfg.KeyID), wrongKey)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Server.Fed.Client.SendTransaction(ctx, gomatrixserverlib.Transaction{
		TransactionID: "forged-1", Origin: spec.ServerName(b.Cfg.ServerName), Destination: spec.ServerName(a.Cfg.ServerName),
		PDUs: []json.RawMessage{forged.JSON()},
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if r, ok := resp.PDUs[forged.EventID()]; !ok || r.Error == "" {
		t.Fatalf("forged event accepted: %+v", resp.PDUs)
	}
	if evs, err := a.Server.Rooms.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(forged.EventID())}); err != nil || len(evs) != 0 {
		t.Fatal("forged event stored")
	}
}

// An m.room.server_acl denying C: C's PDUs are refused by A and B, and
// another user of C cannot join; B keeps talking.
func TestFederationServerACL(t *testing.T) {
	ctx := context.Background()
	opts := testserver.Options{}
	a, b, c := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2"), fedStart(t, opts, "127.0.0.3")
	alice, bob, carol, carl := a.Register("alice", "password123"), b.Register("bob", "password123"), c.Register("carol", "password123"), c.Register("carl", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	// A second room without an ACL carries markers: C's events for both
	// rooms leave C in the order they were sent, in one queue per
	// destination, and a transaction is processed before it is answered,
	// so once a marker sent after a denied event is stored on A and B, the
	// denied event has been through their checks.
	markers := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	for _, r := range []id.RoomID{room, markers} {
		for _, u := range []*mautrix.Client{bob, carol} {
			if _, err := u.JoinRoom(ctx, r.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
				t.Fatalf("%s joins: %v", u.UserID, err)
			}
		}
	}
	markerArrived := func(what string) {
		t.Helper()
		marker := syncSend(t, carol, markers, what)
		testutil.Eventually(t, 20*time.Second, what+" from C on A and B", func() bool {
			for _, inst := range []*testserver.Instance{a, b} {
				if evs, err := inst.Server.Rooms.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(marker.String())}); err != nil || len(evs) == 0 {
					return false
				}
			}
			return true
		})
	}
	acl := map[string]any{"allow": []string{"*"}, "deny": []string{"127.0.0.3"}, "allow_ip_literals": true}
	if _, err := alice.SendStateEvent(ctx, room, event.StateServerACL, "", acl); err != nil {
		t.Fatalf("set ACL: %v", err)
	}
	testutil.Eventually(t, 20*time.Second, "ACL on B and C", func() bool {
		for _, inst := range []*testserver.Instance{b, c} {
			evs, err := inst.Server.Rooms.QueryCurrentState(ctx, matrixid.RoomID(room.String()), []rsapi.StateKey{{Type: "m.room.server_acl"}})
			must(t, err)
			if len(evs) == 0 {
				return false
			}
		}
		return true
	})
	denied := syncSend(t, carol, room, "from a denied server")
	syncSend(t, bob, room, "from an allowed server")
	as := newFedSyncer(t, alice)
	as.until(20*time.Second, "B's message", func() bool { return as.hasBody(room, "from an allowed server") })
	markerArrived("marker after the denied message")
	for _, inst := range []*testserver.Instance{a, b} {
		if evs, err := inst.Server.Rooms.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(denied.String())}); err != nil || len(evs) != 0 {
			t.Fatalf("%s accepted an event from a denied server", inst.Cfg.ServerName)
		}
	}
	// C is still in the room from its own point of view, so carl's join
	// is made on C; A must not accept it, nor hand C a join template.
	if _, err := carl.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Logf("carl's join on C: %v", err)
	}
	if _, err := c.Server.Fed.Client.MakeJoin(ctx, spec.ServerName(c.Cfg.ServerName), spec.ServerName(a.Cfg.ServerName),
		room.String(), carl.UserID.String()); err == nil {
		t.Fatal("A gave a denied server a join template")
	}
	markerArrived("marker after carl's join")
	if m, _, err := a.Server.Rooms.QueryMembership(ctx, matrixid.RoomID(room.String()), matrixid.UserID(carl.UserID.String())); err != nil || m != "" {
		t.Fatalf("A accepted a join from a denied server: %q (%v)", m, err)
	}
}

// Profile and alias lookups across servers; joining by a remote alias.
func TestFederationProfileAndDirectory(t *testing.T) {
	ctx := context.Background()
	opts := testserver.Options{}
	a, b := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	if err := alice.SetDisplayName(ctx, "Alice of A"); err != nil {
		t.Fatal(err)
	}
	prof, err := b.Server.Fed.QueryProfile(ctx, matrixid.UserID(alice.UserID.String()), "")
	if err != nil {
		t.Fatalf("profile over federation: %v", err)
	}
	if string(prof["displayname"]) != `"Alice of A"` {
		t.Fatalf("profile %v", prof)
	}
	if _, err := b.Server.Fed.QueryProfile(ctx, matrixid.UserID("@nobody:"+a.Cfg.ServerName), ""); err == nil {
		t.Fatal("profile of an unknown user")
	}
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "fedroom"})
	alias := "#fedroom:" + a.Cfg.ServerName
	ra, err := b.Server.Fed.QueryRoomAlias(ctx, alias)
	if err != nil || ra.RoomID != room.String() {
		t.Fatalf("alias over federation: %+v %v", ra, err)
	}
	resp, err := bob.JoinRoom(ctx, alias, nil)
	if err != nil || resp.RoomID != room {
		t.Fatalf("join by remote alias: %+v %v", resp, err)
	}
	if _, err := b.Server.Fed.QueryRoomAlias(ctx, "#missing:"+a.Cfg.ServerName); err == nil {
		t.Fatal("unknown alias resolved")
	}
}
