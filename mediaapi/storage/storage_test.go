package storage_test

import (
	"context"
	"errors"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/mediaapi/storage"
)

const sha = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func TestMediaRows(t *testing.T) {
	storagetest.ForEachBackend(t, storage.Component, storage.Migrations, func(t *testing.T, db *istorage.DB) {
		ctx := context.Background()
		d := storage.New(db)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Media(ctx, "hs", "nope"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("missing row: %v", err)
		}
		must(d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: "a", Uploader: "@u:hs", ContentType: "image/png",
			FileName: "a.png", Size: 5, SHA256: sha, CreatedTS: 1, LastAccess: 1}))
		if err := d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: "a", CreatedTS: 1}); !istorage.IsUniqueViolation(err) {
			t.Fatalf("duplicate ID: %v", err)
		}
		m, err := d.Media(ctx, "hs", "a")
		must(err)
		if m.Uploader != "@u:hs" || m.Size != 5 || m.SHA256 != sha || m.Pending() || m.Quarantined {
			t.Fatalf("row %+v", m)
		}
		if n, err := d.Quarantine(ctx, "hs", []storage.Ref{{Origin: "hs", MediaID: "a"}}, "@admin:hs", 1); err != nil || n != 1 {
			t.Fatalf("quarantine: %d %v", n, err)
		}
		if m, _ = d.Media(ctx, "hs", "a"); !m.Quarantined || m.QuarantinedBy != "@admin:hs" {
			t.Fatalf("quarantine not stored: %+v", m)
		}

		// Pending uploads: counted until completed or expired.
		must(d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: "p", Uploader: "@u:hs", CreatedTS: 10, ExpiresTS: 100, LastAccess: 10}))
		must(d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: "old", Uploader: "@u:hs", CreatedTS: 10, ExpiresTS: 20, LastAccess: 10}))
		if n, err := d.CountPending(ctx, "@u:hs", 50); err != nil || n != 1 {
			t.Fatalf("pending %d %v", n, err)
		}
		if ok, err := d.CompletePending(ctx, &storage.Media{Origin: "hs", MediaID: "p", Uploader: "@other:hs", SHA256: sha}, 50); err != nil || ok {
			t.Fatalf("someone else completed it: %v %v", ok, err)
		}
		ok, err := d.CompletePending(ctx, &storage.Media{Origin: "hs", MediaID: "p", Uploader: "@u:hs", ContentType: "text/plain", Size: 3, SHA256: sha}, 50)
		if err != nil || !ok {
			t.Fatalf("complete: %v %v", ok, err)
		}
		if ok, _ := d.CompletePending(ctx, &storage.Media{Origin: "hs", MediaID: "p", Uploader: "@u:hs", SHA256: sha}, 51); ok {
			t.Fatal("completed twice")
		}
		if n, err := d.DeleteExpiredPending(ctx, 50); err != nil || n != 1 {
			t.Fatalf("expired deleted %d %v", n, err)
		}

		// Remote cache rows and thumbnails.
		must(d.UpsertRemote(ctx, &storage.Media{Origin: "other", MediaID: "r", ContentType: "image/jpeg", Size: 9, SHA256: sha, CreatedTS: 5, LastAccess: 5}))
		must(d.UpsertRemote(ctx, &storage.Media{Origin: "other", MediaID: "r", ContentType: "image/jpeg", Size: 10, SHA256: sha, CreatedTS: 6, LastAccess: 6}))
		if m, _ = d.Media(ctx, "other", "r"); m.Size != 10 || m.Uploader != "" {
			t.Fatalf("remote row %+v", m)
		}
		th := &storage.Thumbnail{Origin: "hs", MediaID: "a", Width: 32, Height: 32, Method: "crop", ContentType: "image/png", Size: 1, SHA256: sha, CreatedTS: 1}
		must(d.InsertThumbnail(ctx, th))
		must(d.InsertThumbnail(ctx, th)) // same key: replaced
		must(d.InsertThumbnail(ctx, &storage.Thumbnail{Origin: "hs", MediaID: "a", Width: 32, Height: 32, Method: "crop", Animated: true, ContentType: "image/gif", Size: 1, SHA256: sha, CreatedTS: 1}))
		ths, err := d.Thumbnails(ctx, "hs", "a")
		if err != nil || len(ths) != 2 {
			t.Fatalf("thumbnails %v %v", ths, err)
		}

		// URL preview cache.
		must(d.StoreURLPreview(ctx, "https://x/", 7, `{"og:title":"x"}`, 1000, 0))
		if og, err := d.URLPreview(ctx, "https://x/", 7); err != nil || og != `{"og:title":"x"}` {
			t.Fatalf("preview %q %v", og, err)
		}
		must(d.StoreURLPreview(ctx, "https://y/", 8, `{}`, 5000, 2000)) // drops the older one
		if _, err := d.URLPreview(ctx, "https://x/", 7); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("old preview kept: %v", err)
		}
	})
}

// TestMediaAdminRows: listing a user's media, quarantine (protected media
// spared, uncached remote media kept out by a placeholder that neither
// expiry nor cache purges remove), deletion by age.
func TestMediaAdminRows(t *testing.T) {
	storagetest.ForEachBackend(t, storage.Component, storage.Migrations, func(t *testing.T, db *istorage.DB) {
		ctx := context.Background()
		d := storage.New(db)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		for i, id := range []string{"c", "a", "b"} {
			must(d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: id, Uploader: "@u:hs", ContentType: "image/png",
				Size: int64(10 * (i + 1)), SHA256: sha, CreatedTS: int64(i + 1), LastAccess: int64(100 * (i + 1))}))
		}
		must(d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: "pending", Uploader: "@u:hs", CreatedTS: 1, ExpiresTS: 1 << 50, LastAccess: 1}))
		must(d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: "other", Uploader: "@v:hs", Size: 1, SHA256: sha, CreatedTS: 1, LastAccess: 1}))
		page, total, err := d.UserMedia(ctx, "hs", "@u:hs", "media_length", true, 1, 10)
		must(err)
		if total != 3 || len(page) != 2 || page[0].MediaID != "a" || page[1].MediaID != "c" {
			t.Fatalf("page by size desc from 1: total %d %+v", total, page)
		}
		if !storage.UserMediaOrder("created_ts") || storage.UserMediaOrder("sha256; DROP TABLE x") {
			t.Fatal("order_by validation")
		}

		must(d.SetProtected(ctx, "hs", "b", true))
		if err := d.SetProtected(ctx, "hs", "nope", true); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("protect unknown: %v", err)
		}
		if n, err := d.QuarantineUploader(ctx, "hs", "@u:hs", "@admin:hs"); err != nil || n != 2 {
			t.Fatalf("quarantine uploader: %d %v (want 2: b is protected)", n, err)
		}
		if m, _ := d.Media(ctx, "hs", "b"); m.Quarantined {
			t.Fatal("protected media quarantined")
		}
		must(d.Unquarantine(ctx, "hs", "a"))
		if m, _ := d.Media(ctx, "hs", "a"); m.Quarantined || m.QuarantinedBy != "" {
			t.Fatalf("unquarantined row %+v", m)
		}
		// Unknown local media gets no row; unknown remote media a placeholder.
		refs := []storage.Ref{{Origin: "hs", MediaID: "ghost"}, {Origin: "remote", MediaID: "r1"}, {Origin: "hs", MediaID: "a"}}
		if n, err := d.Quarantine(ctx, "hs", refs, "@admin:hs", 5); err != nil || n != 2 {
			t.Fatalf("quarantine refs: %d %v", n, err)
		}
		if _, err := d.Media(ctx, "hs", "ghost"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("local placeholder made: %v", err)
		}
		if m, err := d.Media(ctx, "remote", "r1"); err != nil || !m.Quarantined || !m.Pending() {
			t.Fatalf("remote placeholder %+v %v", m, err)
		}
		if _, err := d.DeleteExpiredPending(ctx, 1<<60); err != nil {
			t.Fatal(err)
		}
		if stale, err := d.StaleRemote(ctx, "hs", 1<<60, 10); err != nil || len(stale) != 0 {
			t.Fatalf("stale remote %+v %v", stale, err)
		}
		if _, err := d.Media(ctx, "remote", "r1"); err != nil {
			t.Fatalf("placeholder removed: %v", err)
		}

		// By age: b is protected, pending is not stored; keyset pages.
		old, err := d.LocalBefore(ctx, "hs", 250, 0, "", 10)
		must(err)
		if len(old) != 3 || old[0].MediaID != "a" || old[1].MediaID != "c" || old[2].MediaID != "other" {
			t.Fatalf("local before 250: %+v", old)
		}
		if old, _ = d.LocalBefore(ctx, "hs", 250, 15, "a", 10); len(old) != 0 {
			t.Fatalf("after a, larger than 15: %+v", old)
		}
	})
}

// TestQuarantineCountedOnceWhenRunAgain: on PostgreSQL a write whose
// connection is lost before its commit runs again; the media it
// quarantined are counted once (the second run used to add its count to
// the first's).
func TestQuarantineCountedOnceWhenRunAgain(t *testing.T) {
	ctx := context.Background()
	db := storagetest.OpenMigrated(t, storagetest.PostgresOnlyDSN(t), storage.Component, storage.Migrations)
	d := storage.New(db)
	for _, id := range []string{"x", "y"} {
		if err := d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: id, Uploader: "@u:hs", SHA256: sha, CreatedTS: 1, LastAccess: 1}); err != nil {
			t.Fatal(err)
		}
	}
	db.LoseNextCommitForTesting()
	n, err := d.Quarantine(ctx, "hs", []storage.Ref{{Origin: "hs", MediaID: "x"}, {Origin: "hs", MediaID: "y"}}, "@admin:hs", 2)
	if err != nil || n != 2 {
		t.Fatalf("quarantined %d (%v), want 2", n, err)
	}
}
