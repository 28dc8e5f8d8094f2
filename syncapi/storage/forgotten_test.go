package storage_test

import (
	"context"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/storage"
)

func TestForgotten(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		set := func(user, room, ev string) {
			t.Helper()
			must(t, d.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return d.SetForgotten(ctx, tx, user, room, ev) }))
		}
		if ev, err := d.ForgottenEvent(ctx, "@u:x", "!a"); err != nil || ev != "" {
			t.Fatalf("nothing forgotten yet: %q %v", ev, err)
		}
		set("@u:x", "!a", "$leave1")
		set("@u:x", "!b", "$leave2")
		set("@v:x", "!a", "$leave3")
		// Forgetting again after a later leave replaces the event.
		set("@u:x", "!a", "$leave4")
		if ev, err := d.ForgottenEvent(ctx, "@u:x", "!a"); err != nil || ev != "$leave4" {
			t.Fatalf("forgotten event: %q %v", ev, err)
		}
		got, err := d.ForgottenRooms(ctx, "@u:x")
		if err != nil || len(got) != 2 || got["!a"] != "$leave4" || got["!b"] != "$leave2" {
			t.Fatalf("forgotten rooms: %v %v", got, err)
		}
	})
}
