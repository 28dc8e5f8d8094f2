package keyserver

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Kept key counts always equal the table's: after uploads of one-time and
// fallback keys, claims of both, a claim by federation's path and the
// device's deletion (through the API and the user_devices consumer's
// path), each answer is compared with a read of the table. Fails if any of
// those writes does not forget the device's counts.
func TestKeyCountsKeptMatchTable(t *testing.T) {
	forEachKeyserver(t, func(t *testing.T, k *Keyserver, _ *flakyLog) {
		ctx := context.Background()
		k.counts = newKeyCountsCache()
		const alice, dev = "@alice:test", "D"
		check := func(step string, wantOTK int) {
			t.Helper()
			// Twice: the first may read and keep, the second is kept.
			for range 2 {
				got, err := k.KeyCounts(ctx, alice, dev)
				must(t, err)
				otk, fb, err := k.db.KeyCounts(ctx, alice, dev)
				must(t, err)
				want := &api.KeyCounts{OneTimeKeyCounts: otk, UnusedFallbackKeyAlgs: fb}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: kept %+v, table %+v", step, got, want)
				}
				if got.OneTimeKeyCounts["signed_curve25519"] != wantOTK {
					t.Fatalf("%s: %d one-time keys, want %d", step, got.OneTimeKeyCounts["signed_curve25519"], wantOTK)
				}
			}
		}
		upload := func(otk, fallback map[string]json.RawMessage) {
			t.Helper()
			_, err := k.UploadKeys(ctx, &api.UploadKeysRequest{UserID: alice, DeviceID: dev, OneTimeKeys: otk, FallbackKeys: fallback})
			must(t, err)
		}
		claim := func() {
			t.Helper()
			_, err := k.ClaimKeys(ctx, &api.ClaimKeysRequest{OneTimeKeys: map[string]map[string]string{alice: {dev: "signed_curve25519"}}})
			must(t, err)
		}
		check("nothing uploaded", 0)
		upload(map[string]json.RawMessage{"signed_curve25519:1": json.RawMessage(`{"key":"a"}`), "signed_curve25519:2": json.RawMessage(`{"key":"b"}`)}, nil)
		check("two uploaded", 2)
		upload(nil, map[string]json.RawMessage{"signed_curve25519:f": json.RawMessage(`{"key":"f","fallback":true}`)})
		check("fallback uploaded", 2)
		claim()
		check("one claimed", 1)
		claim()
		claim() // the fallback key
		check("all claimed", 0)
		if got, _ := k.KeyCounts(ctx, alice, dev); len(got.UnusedFallbackKeyAlgs) != 0 {
			t.Fatalf("fallback key still unused after its claim: %+v", got)
		}
		upload(map[string]json.RawMessage{"signed_curve25519:3": json.RawMessage(`{"key":"c"}`)}, nil)
		check("uploaded again", 1)
		must(t, k.DeleteDeviceKeys(ctx, alice, []string{dev}))
		check("device deleted", 0)
		upload(map[string]json.RawMessage{"signed_curve25519:4": json.RawMessage(`{"key":"d"}`)}, nil)
		check("after deletion", 1)
		must(t, k.onDeviceChange(ctx, deviceDeletedMsg(t, alice, dev)))
		check("deleted by the consumer", 0)

		// An answer handed out is the caller's own.
		got, err := k.KeyCounts(ctx, alice, dev)
		must(t, err)
		got.OneTimeKeyCounts["x"] = 9
		check("after a caller changed its answer", 0)
	})
}

// A read that began before a forget may have seen the table before that
// commit: it is answered but not kept.
func TestKeyCountsReadAcrossForgetNotKept(t *testing.T) {
	c := newKeyCountsCache()
	d := keyDevice{"@a:test", "D"}
	stale := &api.KeyCounts{OneTimeKeyCounts: map[string]int{"alg": 1}}
	if _, err := c.get(d, func() (*api.KeyCounts, error) {
		c.forget(d.user, d.device) // the write commits while the read runs
		return stale, nil
	}); err != nil {
		t.Fatal(err)
	}
	fresh := &api.KeyCounts{OneTimeKeyCounts: map[string]int{"alg": 0}}
	got, err := c.get(d, func() (*api.KeyCounts, error) { return fresh, nil })
	if err != nil || got.OneTimeKeyCounts["alg"] != 0 {
		t.Fatalf("kept the read from before the forget: %+v, %v", got, err)
	}
	got, _ = c.get(d, func() (*api.KeyCounts, error) { t.Fatal("read again"); return nil, nil })
	if got.OneTimeKeyCounts["alg"] != 0 {
		t.Fatalf("kept %+v", got)
	}
}

// deviceDeletedMsg is the user_devices message of dev's deletion.
func deviceDeletedMsg(t *testing.T, user, dev string) stream.Message {
	t.Helper()
	return stream.Message{Seq: 1, Data: rawJSON(t, uapi.OutputDeviceChange{UserID: user, DeletedDeviceIDs: []string{dev}})}
}
