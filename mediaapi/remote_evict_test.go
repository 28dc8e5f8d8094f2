package mediaapi

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/mediaapi/blob"
	"github.com/axon-hs/axon/mediaapi/storage"
)

func TestEvictRemote(t *testing.T) {
	storagetest.ForEachBackend(t, storage.Component, storage.Migrations, func(t *testing.T, db *istorage.DB) {
		ctx := context.Background()
		m := testMedia(t, db, nil, nil)
		old, recent := time.Now().Add(-48*time.Hour).UnixMilli(), time.Now().UnixMilli()
		put := func(content string, row *storage.Media) string {
			t.Helper()
			sp, err := m.spool(bytes.NewReader([]byte(content)), m.maxUpload, errTooLarge)
			if err != nil {
				t.Fatal(err)
			}
			row.SHA256, row.Size, row.CreatedTS = sp.SHA256, sp.Size, row.LastAccess
			record := func() error { return m.db.UpsertRemote(ctx, row) }
			if row.Origin == "us" {
				record = func() error { return m.db.InsertMedia(ctx, row) }
			}
			if err := m.commitAndRecord(ctx, sp, record); err != nil {
				t.Fatal(err)
			}
			return sp.SHA256
		}
		shared := put("shared", &storage.Media{Origin: "them", MediaID: "oldShared", LastAccess: old})
		put("shared", &storage.Media{Origin: "us", MediaID: "local", Uploader: "@u:us", LastAccess: old})
		unique := put("unique", &storage.Media{Origin: "them", MediaID: "oldUnique", LastAccess: old})
		fresh := put("fresh", &storage.Media{Origin: "them", MediaID: "fresh", LastAccess: recent})

		n, err := m.evictRemote(ctx, time.Now().Add(-24*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("evicted %d: %v", n, err)
		}
		for id, gone := range map[string]bool{"oldShared": true, "oldUnique": true, "fresh": false} {
			_, err := m.db.Media(ctx, "them", id)
			if gone != errors.Is(err, istorage.ErrNotFound) {
				t.Fatalf("%s: %v", id, err)
			}
		}
		if _, err := m.db.Media(ctx, "us", "local"); err != nil {
			t.Fatal("local media evicted")
		}
		for sha, gone := range map[string]bool{shared: false, unique: true, fresh: false} {
			f, err := m.store.Open(ctx, sha)
			if gone != errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("file %s: %v", sha[:8], err)
			}
			if f != nil {
				f.Close()
			}
		}
	})
}
