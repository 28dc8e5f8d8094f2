package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/mediaapi/storage"
)

func TestBlobPinsAndMarks(t *testing.T) {
	storagetest.ForEachBackend(t, storage.Component, storage.Migrations, func(t *testing.T, db *istorage.DB) {
		ctx := context.Background()
		d := storage.New(db)
		check := func(what string, got bool, err error, want bool) {
			t.Helper()
			if err != nil || got != want {
				t.Fatalf("%s: %v %v, want %v", what, got, err, want)
			}
		}
		const now, stale = 1_000_000, 400_000
		ok, err := d.PinBlob(ctx, sha, "a", now, stale)
		check("pin", ok, err, true)
		ok, err = d.MarkDeleting(ctx, sha, now, stale)
		check("mark while pinned", ok, err, false)
		if err := d.UnpinBlob(ctx, sha, "a"); err != nil {
			t.Fatal(err)
		}
		ok, err = d.MarkDeleting(ctx, sha, now, stale)
		check("mark unpinned", ok, err, true)
		ok, err = d.PinBlob(ctx, sha, "b", now+1, stale)
		check("pin while deleting", ok, err, false)
		ok, err = d.MarkDeleting(ctx, sha, now+1, stale)
		check("second mark", ok, err, false)
		if err := d.ClearDeleting(ctx, sha, now, stale); err != nil {
			t.Fatal(err)
		}
		ok, err = d.PinBlob(ctx, sha, "b", now+2, stale)
		check("pin after delete", ok, err, true)

		// A pin or mark older than stale belongs to a dead process.
		ok, err = d.MarkDeleting(ctx, sha, now+3, now+3)
		check("mark over a stale pin", ok, err, true)
		ok, err = d.PinBlob(ctx, sha, "c", now+5, now+4)
		check("pin over a stale mark", ok, err, true)
		if err := d.UnpinBlob(ctx, sha, "c"); err != nil {
			t.Fatal(err)
		}

		// Rows keep a file, a pin or not.
		if err := d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: "m", SHA256: sha, CreatedTS: 1, LastAccess: 1}); err != nil {
			t.Fatal(err)
		}
		ok, err = d.MarkDeleting(ctx, sha, now+6, stale)
		check("mark while a row uses it", ok, err, false)
		thumbSHA := "b" + sha[1:]
		th := &storage.Thumbnail{Origin: "hs", MediaID: "m", Width: 1, Height: 1, Method: "crop", ContentType: "image/png", Size: 1, SHA256: thumbSHA, CreatedTS: 1}
		if err := d.InsertThumbnail(ctx, th); err != nil {
			t.Fatal(err)
		}
		shas, err := d.DeleteMedia(ctx, "hs", "m")
		if err != nil || len(shas) != 2 {
			t.Fatalf("delete: %v %v", shas, err)
		}
		if err := d.InsertThumbnail(ctx, th); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("thumbnail of deleted media: %v", err)
		}
		ok, err = d.MarkDeleting(ctx, thumbSHA, now+7, stale)
		check("mark the thumbnail's file", ok, err, true)
	})
}

// TestBlobStoreDeleteRace stores and deletes media sharing one file, and
// thumbnails of media being deleted, from many goroutines on a fake file
// store, as several processes would. No row may point at a deleted file
// (checked as each row is recorded and each file deleted), and no
// thumbnail may outlive its media.
func TestBlobStoreDeleteRace(t *testing.T) {
	storagetest.ForEachBackend(t, storage.Component, storage.Migrations, func(t *testing.T, db *istorage.DB) {
		ctx := context.Background()
		d := storage.New(db)
		var mu sync.Mutex
		files := map[string]bool{}
		setFile := func(sha string, present bool) { mu.Lock(); files[sha] = present; mu.Unlock() }
		var clock sync.Mutex
		ts := int64(1_000_000)
		tick := func() int64 { clock.Lock(); defer clock.Unlock(); ts++; return ts }

		store := func(sha, token string, record func() error) error {
			for {
				ok, err := d.PinBlob(ctx, sha, token, tick(), 0)
				if err != nil {
					return err
				}
				if ok {
					break
				}
			}
			setFile(sha, true)
			err := record()
			mu.Lock()
			present := files[sha]
			mu.Unlock()
			if err == nil && !present {
				err = fmt.Errorf("recorded a row for %s, whose file was deleted meanwhile", sha[:8])
			}
			if uerr := d.UnpinBlob(ctx, sha, token); uerr != nil {
				return uerr
			}
			if errors.Is(err, istorage.ErrNotFound) {
				return deleteFile(ctx, d, sha, tick(), setFile)
			}
			return err
		}
		const workers, rounds = 3, 40
		thumbSHA := "c" + sha[1:]
		errs := make(chan error, 2*workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(2)
			go func() { // uploads, each deleted again
				defer wg.Done()
				for r := range rounds {
					id := fmt.Sprintf("w%d-%d", w, r)
					err := store(sha, id, func() error {
						return d.InsertMedia(ctx, &storage.Media{Origin: "hs", MediaID: id, SHA256: sha, CreatedTS: 1, LastAccess: 1})
					})
					if err == nil {
						err = deleteMediaFiles(ctx, d, id, tick, setFile)
					}
					if err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
			go func() { // thumbnails of the media being deleted
				defer wg.Done()
				for r := range rounds {
					id := fmt.Sprintf("w%d-%d", w, r)
					th := &storage.Thumbnail{Origin: "hs", MediaID: id, Width: 1, Height: 1, Method: "crop", ContentType: "image/png", Size: 1, SHA256: thumbSHA, CreatedTS: 1}
					if err := store(thumbSHA, "t"+id, func() error { return d.InsertThumbnail(ctx, th) }); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var orphans int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mediaapi_thumbnails t WHERE NOT EXISTS
			(SELECT 1 FROM mediaapi_media m WHERE m.origin = t.origin AND m.media_id = t.media_id)`).Scan(&orphans); err != nil || orphans != 0 {
			t.Fatalf("%d thumbnails of deleted media (%v)", orphans, err)
		}
	})
}

// deleteMediaFiles deletes a media row and the files no one uses, as the
// mediaapi does.
func deleteMediaFiles(ctx context.Context, d *storage.DB, id string, tick func() int64, setFile func(string, bool)) error {
	shas, err := d.DeleteMedia(ctx, "hs", id)
	for _, s := range shas {
		if err == nil {
			err = deleteFile(ctx, d, s, tick(), setFile)
		}
	}
	return err
}

func deleteFile(ctx context.Context, d *storage.DB, sha string, now int64, setFile func(string, bool)) error {
	ok, err := d.MarkDeleting(ctx, sha, now, 0)
	if err != nil || !ok {
		return err
	}
	setFile(sha, false)
	var uses int
	if err := d.DB.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM mediaapi_media WHERE sha256 = $1)
		+ (SELECT COUNT(*) FROM mediaapi_thumbnails WHERE sha256 = $1)`, sha).Scan(&uses); err != nil || uses > 0 {
		return fmt.Errorf("deleted file %s, which %d rows use (%v)", sha[:8], uses, err)
	}
	return d.ClearDeleting(ctx, sha, now, 0)
}
