package e2e

import (
	"context"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// A user joining a room with a server that shares no other room with
// them has their device list announced there (whole list, no prev_id).
// The receiving server records it without telling its users again: the
// join already marked the user changed, so a second mark would report a
// change that never happened (Complement's
// TestDeviceListsUpdateOverFederation sees exactly that). carol's later
// key upload, queued on B after bob's announcement, is the fence: once
// alice sees carol changed, bob's announcement has been handled, and bob
// must not have shown up again. bob's next real change still does.
// Runs on SQLite and PostgreSQL.
func TestFederationDeviceListAnnouncedOnJoin(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		a, b := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
		alice := a.Register("alice", "password123")
		bob, carol := b.Register("bob", "password123"), b.Register("carol", "password123")
		bobID, carolID := bob.UserID.String(), carol.UserID.String()
		room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		if _, err := carol.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			t.Fatalf("carol joins over federation: %v", err)
		}
		if up := keysDo(t, bob, "POST", "/keys/upload", map[string]any{"device_keys": newKeysDevice(t, bob).deviceKeys(t)}); up.Status != 200 {
			t.Fatalf("bob's upload: %d %s", up.Status, up.Raw)
		}
		aliceSync := func(s string) acctResp {
			return keysDo(t, alice, "GET", "/sync?timeout=5000&since="+url.QueryEscape(s), nil)
		}
		_, _, first := keysSyncCounts(t, alice, "")
		if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
			t.Fatalf("bob joins over federation: %v", err)
		}
		joined := keysSyncUntil(t, aliceSync, first.str("next_batch"), "bob changed on A after his join", func(r acctResp) bool { return keysChanged(r, bobID) })

		if up := keysDo(t, carol, "POST", "/keys/upload", map[string]any{"device_keys": newKeysDevice(t, carol).deviceKeys(t)}); up.Status != 200 {
			t.Fatalf("carol's upload: %d %s", up.Status, up.Raw)
		}
		since, bobAgain := joined.str("next_batch"), false
		var r acctResp
		if !testutil.Within(15*time.Second, func() bool {
			r = aliceSync(since)
			since = r.str("next_batch")
			bobAgain = bobAgain || keysChanged(r, bobID)
			return keysChanged(r, carolID)
		}) {
			t.Fatalf("carol's key upload never reached alice; last sync %s", r.Raw)
		}
		if bobAgain {
			t.Fatal("bob's device list announcement marked him changed a second time")
		}

		// A real change of bob's follows the announced stream ID: shown.
		bob2 := b.Client()
		if _, err := bob2.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "password123",
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "bob"}, StoreCredentials: true}); err != nil {
			t.Fatal(err)
		}
		if up := keysDo(t, bob2, "POST", "/keys/upload", map[string]any{"device_keys": newKeysDevice(t, bob2).deviceKeys(t)}); up.Status != 200 {
			t.Fatalf("bob's second upload: %d %s", up.Status, up.Raw)
		}
		keysSyncUntil(t, aliceSync, since, "bob's new device on A", func(r acctResp) bool { return keysChanged(r, bobID) })
	})
}
