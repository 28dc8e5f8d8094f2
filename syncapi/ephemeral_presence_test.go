package syncapi

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestPresenceTimers(t *testing.T) {
	ctx := context.Background()
	s := newTestSyncAPI(t, filepath.Join(t.TempDir(), "p.db"))
	const alice = "@alice:test"
	state := func() string {
		t.Helper()
		p, err := s.db.GetPresence(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if p == nil {
			return "offline"
		}
		return p.Presence
	}
	// A sync without set_presence brings the user online.
	end := s.presence.syncStarted(alice)
	s.touchPresence(ctx, alice, "")
	if got := state(); got != "online" {
		t.Fatalf("after sync: %s", got)
	}
	// While a sync is in flight the user is not offline, but idles.
	s.reapPresence(ctx, time.Now().Add(time.Minute))
	if got := state(); got != "online" {
		t.Fatalf("syncing user: %s", got)
	}
	s.reapPresence(ctx, time.Now().Add(presenceIdleAfter+time.Second))
	if got := state(); got != "unavailable" {
		t.Fatalf("idle user: %s", got)
	}
	// Polling does not count as activity; sending something does.
	s.touchPresence(ctx, alice, "")
	if got := state(); got != "unavailable" {
		t.Fatalf("idle user after a poll: %s", got)
	}
	s.presenceActivity(ctx, alice)
	if got := state(); got != "online" {
		t.Fatalf("after activity: %s", got)
	}
	// No sync for offlineAfter: offline.
	end()
	s.reapPresence(ctx, time.Now().Add(presenceOfflineAfter/2))
	if got := state(); got != "online" {
		t.Fatalf("just stopped syncing: %s", got)
	}
	s.reapPresence(ctx, time.Now().Add(presenceOfflineAfter+time.Second))
	if got := state(); got != "offline" {
		t.Fatalf("no syncs: %s", got)
	}
	// An explicit unavailable is the user's choice: activity keeps it.
	defer s.presence.syncStarted(alice)()
	s.touchPresence(ctx, alice, "unavailable")
	s.presenceActivity(ctx, alice)
	if got := state(); got != "unavailable" {
		t.Fatalf("explicit unavailable after activity: %s", got)
	}
	// Each change advanced the presence stream; a no-op poll did not.
	before := s.notif.Current().Presence
	s.touchPresence(ctx, alice, "unavailable")
	if s.notif.Current().Presence != before {
		t.Fatal("an unchanged presence was written again")
	}
}
