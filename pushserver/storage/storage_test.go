package storage_test

import (
	"context"
	"encoding/json"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/pushserver/storage"
)

func forEachBackend(t *testing.T, fn func(t *testing.T, d *storage.DB)) {
	storagetest.ForEachBackend(t, "pushserver", storage.Migrations, func(t *testing.T, db *istorage.DB) { fn(t, storage.New(db)) })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pusher(user, key string) storage.Pusher {
	return storage.Pusher{UserID: user, AppID: "app", PushKey: key, Kind: "http", AppDisplayName: "App", DeviceDisplayName: "Phone",
		Lang: "en", Data: json.RawMessage(`{"url":"http://gw/_matrix/push/v1/notify"}`), DeviceID: "DEV", PushKeyTS: 5, DeliveredPos: 10}
}

func TestPusherStorage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		removed, err := d.SetPusher(ctx, pusher("@a:x", "k1"), false)
		must(t, err)
		if len(removed) != 0 {
			t.Fatalf("removed %v from an empty table", removed)
		}
		must(t, d.SetDelivered(ctx, key("@a:x", "k1"), 20))
		must(t, d.SetDelivered(ctx, key("@a:x", "k1"), 15)) // never backwards
		// Updating keeps the position.
		p := pusher("@a:x", "k1")
		p.Lang = "de"
		_, err = d.SetPusher(ctx, p, false)
		must(t, err)
		ps, err := d.Pushers(ctx, "@a:x")
		must(t, err)
		if len(ps) != 1 || ps[0].Lang != "de" || ps[0].DeliveredPos != 20 || string(ps[0].Data) != string(p.Data) {
			t.Fatalf("pushers after update: %+v", ps)
		}
		// append keeps the other user's pusher; without it the key moves.
		_, err = d.SetPusher(ctx, pusher("@b:x", "k1"), true)
		must(t, err)
		if n, _ := d.CountOtherPushers(ctx, key("@a:x", "other")); n != 1 {
			t.Fatalf("append removed the other user's pusher")
		}
		removed, err = d.SetPusher(ctx, pusher("@c:x", "k1"), false)
		must(t, err)
		if len(removed) != 2 {
			t.Fatalf("moving the pushkey removed %v, want a and b", removed)
		}
		all, err := d.AllPushers(ctx)
		must(t, err)
		if len(all) != 1 || all[0].UserID != "@c:x" {
			t.Fatalf("all pushers: %+v", all)
		}
		ok, err := d.DeletePusher(ctx, key("@c:x", "k1"))
		must(t, err)
		if !ok {
			t.Fatal("delete reported nothing deleted")
		}
		ok, _ = d.DeletePusher(ctx, key("@c:x", "k1"))
		if ok {
			t.Fatal("second delete reported a deletion")
		}
		_, err = d.SetPusher(ctx, pusher("@d:x", "k2"), false)
		must(t, err)
		keys, err := d.DeleteDevicePushers(ctx, []storage.DeviceChange{{UserID: "@d:x", DeviceIDs: []string{"OTHER", "DEV"}}}, "user_devices", 7)
		must(t, err)
		if len(keys) != 1 || keys[0].PushKey != "k2" {
			t.Fatalf("device pushers deleted: %v", keys)
		}
		if seq, err := d.ConsumerSeq(ctx, "user_devices"); err != nil || seq != 7 {
			t.Fatalf("consumer seq %d, %v", seq, err)
		}
	})
}

func key(user, pushkey string) storage.Key {
	return storage.Key{UserID: user, AppID: "app", PushKey: pushkey}
}
