package storage_test

import (
	"context"
	"errors"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/userapi/storage"
)

// TestModerationStorage: the shadow ban and the rate-limit override are
// read with the access token; room account data of a purged room goes.
func TestModerationStorage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		must(t, d.CreateAccount(ctx, storage.Account{Localpart: "bob", CreatedTS: 1}, ""))
		must(t, d.CreateSession(ctx, session("bob", "A", "tokA", "")))
		info, err := d.LookupAccessToken(ctx, "tokA")
		must(t, err)
		if info.ShadowBanned || info.HasRateLimit {
			t.Fatalf("fresh account: %+v", info)
		}
		must(t, d.SetShadowBanned(ctx, "bob", true))
		if err := d.SetShadowBanned(ctx, "nobody", true); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		must(t, d.SetRateLimitOverride(ctx, "bob", &storage.RateLimitOverride{MessagesPerSecond: 3, BurstCount: 7}))
		must(t, d.SetRateLimitOverride(ctx, "bob", &storage.RateLimitOverride{MessagesPerSecond: 0, BurstCount: 0}))
		info, err = d.LookupAccessToken(ctx, "tokA")
		must(t, err)
		if !info.ShadowBanned || !info.HasRateLimit || info.MessagesPerSecond != 0 || info.BurstCount != 0 {
			t.Fatalf("banned, unlimited: %+v", info)
		}
		acc, err := d.Account(ctx, "bob")
		must(t, err)
		if !acc.ShadowBanned {
			t.Fatalf("account: %+v", acc)
		}
		o, err := d.RateLimitOverride(ctx, "bob")
		must(t, err)
		if o == nil || o.MessagesPerSecond != 0 {
			t.Fatalf("override: %+v", o)
		}
		must(t, d.SetRateLimitOverride(ctx, "bob", nil))
		must(t, d.SetShadowBanned(ctx, "bob", false))
		info, err = d.LookupAccessToken(ctx, "tokA")
		must(t, err)
		if info.ShadowBanned || info.HasRateLimit {
			t.Fatalf("after lifting: %+v", info)
		}

		must(t, d.WriteTx(ctx, func(tx *istorage.Tx) error {
			if err := d.SetAccountData(ctx, tx, "bob", "!gone:x", "m.tag", []byte(`{}`)); err != nil {
				return err
			}
			return d.SetAccountData(ctx, tx, "bob", "!kept:x", "m.tag", []byte(`{}`))
		}))
		must(t, d.DeleteRoomAccountData(ctx, "!gone:x"))
		gone, err := d.RoomRowCounts(ctx, "!gone:x")
		must(t, err)
		kept, err := d.RoomRowCounts(ctx, "!kept:x")
		must(t, err)
		if gone["userapi_account_data"] != 0 || kept["userapi_account_data"] != 1 {
			t.Fatalf("account data rows: gone %v kept %v", gone, kept)
		}
	})
}
