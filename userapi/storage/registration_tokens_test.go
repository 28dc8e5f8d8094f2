package storage_test

import (
	"context"
	"errors"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/userapi/storage"
)

func TestRegistrationTokenStorage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		two, future := int64(2), int64(2000)
		must(t, d.CreateRegistrationToken(ctx, storage.RegistrationToken{Token: "t2", UsesAllowed: &two, ExpiryTS: &future}))
		if err := d.CreateRegistrationToken(ctx, storage.RegistrationToken{Token: "t2"}); !errors.Is(err, storage.ErrExists) {
			t.Fatalf("duplicate: %v", err)
		}
		must(t, d.SeedRegistrationTokens(ctx, []string{"t2", "seed"}))
		toks, err := d.RegistrationTokens(ctx)
		must(t, err)
		if len(toks) != 2 || toks[0].Token != "seed" || toks[0].UsesAllowed != nil || toks[1].UsesAllowed == nil || *toks[1].UsesAllowed != 2 {
			t.Fatalf("seeding must not touch existing rows: %+v", toks)
		}
		for i, want := range []bool{true, true, false} {
			ok, err := d.UseRegistrationToken(ctx, "t2", 1000)
			must(t, err)
			if ok != want {
				t.Fatalf("use %d: %v, want %v", i, ok, want)
			}
		}
		if ok, _ := d.UseRegistrationToken(ctx, "seed", 3000); !ok {
			t.Fatal("unlimited token refused")
		}
		got, err := d.UpdateRegistrationToken(ctx, "t2", true, nil, false, nil)
		must(t, err)
		if got.UsesAllowed != nil || got.Completed != 2 || got.ExpiryTS == nil {
			t.Fatalf("after lifting the limit: %+v", got)
		}
		if ok, _ := d.UseRegistrationToken(ctx, "t2", 3000); ok {
			t.Fatal("expired token accepted")
		}
		if _, err := d.UpdateRegistrationToken(ctx, "nope", true, nil, false, nil); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
		must(t, d.DeleteRegistrationToken(ctx, "t2"))
		if err := d.DeleteRegistrationToken(ctx, "t2"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("delete missing: %v", err)
		}
	})
}
