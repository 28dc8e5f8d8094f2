package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/axon-hs/axon/internal/testutil"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/keyserver/storage"
)

func forEachBackend(t *testing.T, fn func(t *testing.T, d *storage.DB)) {
	storagetest.ForEachBackend(t, "keyserver", storage.Migrations, func(t *testing.T, db *istorage.DB) { fn(t, storage.New(db)) })
}

// tx runs fn in a write transaction of d.
func tx(t *testing.T, d *storage.DB, fn func(tx *istorage.Tx) error) error {
	t.Helper()
	return d.WriteTx(context.Background(), fn)
}

func upload(t *testing.T, d *storage.DB, u storage.Upload) (id int64, err error) {
	err = tx(t, d, func(tx *istorage.Tx) error { id, err = d.Upload(context.Background(), tx, u); return err })
	return id, err
}

func deleteDevices(t *testing.T, d *storage.DB, user string, ids []string) (deleted []string, id int64, err error) {
	err = tx(t, d, func(tx *istorage.Tx) error {
		deleted, id, err = d.DeleteDevices(context.Background(), tx, user, ids)
		return err
	})
	return deleted, id, err
}

func storeCS(t *testing.T, d *storage.DB, user string, keys map[string]json.RawMessage) (id int64, err error) {
	err = tx(t, d, func(tx *istorage.Tx) error {
		id, err = d.StoreCrossSigningKeys(context.Background(), tx, user, keys)
		return err
	})
	return id, err
}

// must fails the test on a set-up error.
var must = testutil.Must

func otk(id, key string) storage.Key {
	return storage.Key{Algorithm: "signed_curve25519", KeyID: id, JSON: json.RawMessage(`{"key":"` + key + `"}`)}
}

func TestDeviceKeysAndStreams(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		id, err := upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D1", DeviceKeys: json.RawMessage(`{"k":1}`)})
		must(t, err)
		if id != 1 {
			t.Fatalf("first stream id %d", id)
		}
		// Same keys again: no change.
		id, err = upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D1", DeviceKeys: json.RawMessage(`{"k":1}`)})
		must(t, err)
		if id != 0 {
			t.Fatalf("unchanged upload bumped stream to %d", id)
		}
		id, err = upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D2", DeviceKeys: json.RawMessage(`{"k":2}`)})
		must(t, err)
		if id != 2 {
			t.Fatalf("second stream id %d", id)
		}
		keys, err := d.DeviceKeys(ctx, "@a:x")
		must(t, err)
		if len(keys) != 2 || string(keys["D2"]) != `{"k":2}` {
			t.Fatalf("keys %v", keys)
		}
		deleted, id, err := deleteDevices(t, d, "@a:x", []string{"D1", "NOPE"})
		must(t, err)
		if len(deleted) != 1 || deleted[0] != "D1" || id != 3 {
			t.Fatalf("delete: %v %d", deleted, id)
		}
		if _, id, err := deleteDevices(t, d, "@a:x", []string{"NOPE"}); err != nil || id != 0 {
			t.Fatalf("deleting nothing bumped stream")
		}
		cur, err := d.StreamID(ctx, "@a:x")
		must(t, err)
		if cur != 3 {
			t.Fatalf("stream id %d", cur)
		}
	})
}

func TestClaimOrderAndFallback(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		_, err := upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D", OneTimeKeys: []storage.Key{otk("A", "a")},
			FallbackKeys: []storage.Key{otk("F", "f")}})
		must(t, err)
		_, err = upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D", OneTimeKeys: []storage.Key{otk("B", "b"), otk("A", "dup")}})
		must(t, err)
		counts, err := d.OneTimeKeyCounts(ctx, "@a:x", "D")
		must(t, err)
		if counts["signed_curve25519"] != 2 {
			t.Fatalf("counts %v", counts)
		}
		// What /sync reads: the same counts and the unused fallback key.
		counts, algs, err := d.KeyCounts(ctx, "@a:x", "D")
		must(t, err)
		if len(counts) != 1 || counts["signed_curve25519"] != 2 || len(algs) != 1 || algs[0] != "signed_curve25519" {
			t.Fatalf("key counts %v, fallback %v", counts, algs)
		}
		for _, want := range []string{"A", "B", "F", "F"} {
			k, err := d.Claim(ctx, "@a:x", "D", "signed_curve25519")
			must(t, err)
			if k.KeyID != want {
				t.Fatalf("claimed %s, want %s", k.KeyID, want)
			}
		}
		counts, algs, err = d.KeyCounts(ctx, "@a:x", "D")
		must(t, err)
		if len(counts) != 0 || len(algs) != 0 {
			t.Fatalf("after the claims: counts %v, fallback still unused: %v", counts, algs)
		}
		// Same fallback again stays used; a new one is unused.
		_, err = upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D", FallbackKeys: []storage.Key{otk("F", "f")}})
		must(t, err)
		if _, algs, err := d.KeyCounts(ctx, "@a:x", "D"); err != nil || len(algs) != 0 {
			t.Fatalf("re-upload reset used flag")
		}
		_, err = upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D", FallbackKeys: []storage.Key{otk("G", "g")}})
		must(t, err)
		if _, algs, err := d.KeyCounts(ctx, "@a:x", "D"); err != nil || len(algs) != 1 {
			t.Fatalf("new fallback not unused: %v", algs)
		}
		if _, err := d.Claim(ctx, "@a:x", "OTHER", "signed_curve25519"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("claim from keyless device: %v", err)
		}
	})
}

func TestConcurrentClaimsNeverShareAKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		var keys []storage.Key
		for i := range 20 {
			keys = append(keys, otk(string(rune('a'+i)), "k"))
		}
		_, err := upload(t, d, storage.Upload{UserID: "@a:x", DeviceID: "D", OneTimeKeys: keys})
		must(t, err)
		var mu sync.Mutex
		seen := map[string]bool{}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := d.Claim(ctx, "@a:x", "D", "signed_curve25519")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if seen[k.KeyID] {
					t.Errorf("key %s claimed twice", k.KeyID)
				}
				seen[k.KeyID] = true
			}()
		}
		wg.Wait()
		if len(seen) != 20 {
			t.Fatalf("claimed %d distinct keys", len(seen))
		}
	})
}

func TestCrossSigningAndSignatures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		id, err := storeCS(t, d, "@a:x", map[string]json.RawMessage{
			storage.KeyMaster: json.RawMessage(`{"m":1}`), storage.KeySelfSigning: json.RawMessage(`{"s":1}`)})
		must(t, err)
		if id != 1 {
			t.Fatalf("stream %d", id)
		}
		var streams map[string]int64
		must(t, tx(t, d, func(tx *istorage.Tx) error {
			streams, err = d.StoreSignatures(ctx, tx, []storage.Signature{
				{OriginUserID: "@a:x", OriginKeyID: "ed25519:S", TargetUserID: "@a:x", TargetKeyID: "D", Signature: "sig1"},
				{OriginUserID: "@b:x", OriginKeyID: "ed25519:U", TargetUserID: "@a:x", TargetKeyID: "M", Signature: "sig2"},
			})
			return err
		}))
		if streams["@a:x"] != 2 {
			t.Fatalf("streams %v", streams)
		}
		sigs, err := d.Signatures(ctx, "@a:x")
		must(t, err)
		if len(sigs) != 2 {
			t.Fatalf("sigs %v", sigs)
		}
		// A new master key drops the user's own signatures only.
		_, err = storeCS(t, d, "@a:x", map[string]json.RawMessage{storage.KeyMaster: json.RawMessage(`{"m":2}`)})
		must(t, err)
		sigs, err = d.Signatures(ctx, "@a:x")
		must(t, err)
		if len(sigs) != 1 || sigs[0].OriginUserID != "@b:x" {
			t.Fatalf("sigs after new master %v", sigs)
		}
		keys, err := d.CrossSigningKeys(ctx, "@a:x")
		must(t, err)
		if string(keys[storage.KeyMaster]) != `{"m":2}` || string(keys[storage.KeySelfSigning]) != `{"s":1}` {
			t.Fatalf("keys %v", keys)
		}
	})
}

func TestKeyBackup(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		if _, err := d.BackupVersion(ctx, "@a:x", 0); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("no backup: %v", err)
		}
		v1, err := d.CreateBackupVersion(ctx, "@a:x", "alg", json.RawMessage(`{"p":1}`))
		must(t, err)
		key := func(room, sess string, idx int64, verified bool, data string) storage.BackupKey {
			return storage.BackupKey{RoomID: room, SessionID: sess, FirstMessageIndex: idx, IsVerified: verified, SessionData: json.RawMessage(`"` + data + `"`)}
		}
		count, etag1, err := d.PutBackupKeys(ctx, "@a:x", v1, []storage.BackupKey{key("!r", "s1", 5, false, "a"), key("!r", "s2", 0, false, "b")})
		must(t, err)
		if count != 2 {
			t.Fatalf("count %d", count)
		}
		// Worse key: ignored, etag unchanged. Better key: replaces.
		_, etag2, err := d.PutBackupKeys(ctx, "@a:x", v1, []storage.BackupKey{key("!r", "s1", 9, false, "worse")})
		must(t, err)
		if etag2 != etag1 {
			t.Fatalf("etag changed on ignored key")
		}
		_, etag3, err := d.PutBackupKeys(ctx, "@a:x", v1, []storage.BackupKey{key("!r", "s1", 9, true, "verified")})
		must(t, err)
		if etag3 == etag1 {
			t.Fatalf("etag unchanged on replace")
		}
		ks, err := d.BackupKeys(ctx, "@a:x", v1, "!r", "s1")
		must(t, err)
		if len(ks) != 1 || string(ks[0].SessionData) != `"verified"` {
			t.Fatalf("keys %v", ks)
		}
		v2, err := d.CreateBackupVersion(ctx, "@a:x", "alg", json.RawMessage(`{"p":2}`))
		must(t, err)
		if _, _, err := d.PutBackupKeys(ctx, "@a:x", v1, nil); !errors.Is(err, storage.ErrWrongVersion) {
			t.Fatalf("old version write: %v", err)
		}
		cur, err := d.BackupVersion(ctx, "@a:x", 0)
		must(t, err)
		if cur.Version != v2 || string(cur.AuthData) != `{"p":2}` || cur.Count != 0 {
			t.Fatalf("current %+v", cur)
		}
		must(t, d.UpdateBackupAuthData(ctx, "@a:x", v2, json.RawMessage(`{"p":3}`)))
		must(t, d.DeleteBackupVersion(ctx, "@a:x", v2))
		if _, err := d.BackupKeys(ctx, "@a:x", v2, "", ""); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("deleted version: %v", err)
		}
		cur, err = d.BackupVersion(ctx, "@a:x", 0)
		must(t, err)
		if cur.Version != v1 || cur.Count != 2 {
			t.Fatalf("after delete current %+v", cur)
		}
		v3, err := d.CreateBackupVersion(ctx, "@a:x", "alg", json.RawMessage(`{}`))
		must(t, err)
		if v3 != v2+1 {
			t.Fatalf("version reused: %d", v3)
		}
		count, _, err = d.DeleteBackupKeys(ctx, "@a:x", v1, "!r", "")
		must(t, err)
		if count != 0 {
			t.Fatalf("count after delete %d", count)
		}
	})
}
