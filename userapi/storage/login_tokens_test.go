package storage_test

import (
	"context"
	"errors"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/userapi/storage"
)

// TestLoginTokens: a login token is spent by its first use, refused once
// expired, dropped with expired others on insert, and gone when its user
// is deactivated.
func TestLoginTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		must(t, d.CreateAccount(ctx, storage.Account{Localpart: "alice", CreatedTS: 1}, "alice"))
		must(t, d.InsertLoginToken(ctx, "h1", "alice", 2000, 1000))
		must(t, d.InsertLoginToken(ctx, "h2", "alice", 1500, 1000))
		if lp, err := d.TakeLoginToken(ctx, "h1", 1200); err != nil || lp != "alice" {
			t.Fatalf("first use: %q %v", lp, err)
		}
		if _, err := d.TakeLoginToken(ctx, "h1", 1200); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("second use: %v, want ErrNotFound", err)
		}
		if _, err := d.TakeLoginToken(ctx, "h2", 1500); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("expired: %v, want ErrNotFound", err)
		}
		if _, err := d.TakeLoginToken(ctx, "nope", 0); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("unknown: %v, want ErrNotFound", err)
		}
		must(t, d.InsertLoginToken(ctx, "h3", "alice", 5000, 1000))
		must(t, d.Deactivate(ctx, "alice", nil, nil))
		if _, err := d.TakeLoginToken(ctx, "h3", 1000); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("after deactivation: %v, want ErrNotFound", err)
		}
	})
}
