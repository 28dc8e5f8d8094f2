package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// Files are shared by every mediaapi process on one store, so storing
// and deleting a file are serialised on its mediaapi_blobs row (locked
// by the upserts below on PostgreSQL; SQLite has one writer). A store
// pins the hash (mediaapi_blob_pins) before committing the file and
// unpins it once its row is written; a delete marks the hash deleting
// (deleting_ts) only when no row and no live pin uses it, and clears
// the mark after deleting the file. No connection is held across the
// file operation. Pins and marks older than staleBefore belong to a
// process that died and are ignored.

// PinBlob pins sha under token unless a live deletion mark is on it
// (then false: try again shortly).
func (d *DB) PinBlob(ctx context.Context, sha, token string, now, staleBefore int64) (bool, error) {
	pinned := false
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		pinned = false
		var deleting int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO mediaapi_blobs (sha256) VALUES ($1)
			ON CONFLICT (sha256) DO UPDATE SET deleting_ts =
				CASE WHEN mediaapi_blobs.deleting_ts < $2 THEN 0 ELSE mediaapi_blobs.deleting_ts END
			RETURNING deleting_ts`, sha, staleBefore).Scan(&deleting); err != nil || deleting != 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mediaapi_blob_pins WHERE sha256 = $1 AND created_ts < $2`, sha, staleBefore); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO mediaapi_blob_pins (sha256, token, created_ts) VALUES ($1, $2, $3)`, sha, token, now)
		pinned = err == nil
		return err
	})
	return pinned, err
}

// UnpinBlob drops the pin PinBlob made.
func (d *DB) UnpinBlob(ctx context.Context, sha, token string) error {
	_, err := d.DB.ExecContext(ctx, `DELETE FROM mediaapi_blob_pins WHERE sha256 = $1 AND token = $2`, sha, token)
	return err
}

// MarkDeleting marks sha deleting at now if no media row, thumbnail or
// live pin uses it and no other live mark is on it; false means leave
// the file alone.
func (d *DB) MarkDeleting(ctx context.Context, sha string, now, staleBefore int64) (bool, error) {
	marked := false
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		marked = false
		var deleting int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO mediaapi_blobs (sha256) VALUES ($1)
			ON CONFLICT (sha256) DO UPDATE SET deleting_ts = mediaapi_blobs.deleting_ts
			RETURNING deleting_ts`, sha).Scan(&deleting); err != nil || (deleting != 0 && deleting >= staleBefore) {
			return err
		}
		var uses int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM mediaapi_media WHERE sha256 = $1)
			+ (SELECT COUNT(*) FROM mediaapi_thumbnails WHERE sha256 = $1)
			+ (SELECT COUNT(*) FROM mediaapi_blob_pins WHERE sha256 = $1 AND created_ts >= $2)`,
			sha, staleBefore).Scan(&uses); err != nil || uses > 0 {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE mediaapi_blobs SET deleting_ts = $2 WHERE sha256 = $1`, sha, now)
		marked = err == nil
		return err
	})
	return marked, err
}

// ClearDeleting removes the mark MarkDeleting set at ts, and the stale
// pins of sha.
func (d *DB) ClearDeleting(ctx context.Context, sha string, ts, staleBefore int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mediaapi_blob_pins WHERE sha256 = $1 AND created_ts < $2`, sha, staleBefore); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM mediaapi_blobs WHERE sha256 = $1 AND deleting_ts = $2`, sha, ts)
		return err
	})
}

// InsertThumbnail stores a thumbnail row (replacing one of the same key)
// if its media row still exists (else storage.ErrNotFound). It locks the media row first, as
// DeleteMedia does, so a deletion either sees the thumbnail or is seen.
func (d *DB) InsertThumbnail(ctx context.Context, t *Thumbnail) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE mediaapi_media SET last_access_ts = last_access_ts
			WHERE origin = $1 AND media_id = $2`, t.Origin, t.MediaID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return storage.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, insertThumbnailSQL, t.Origin, t.MediaID, t.Width, t.Height, t.Method,
			t.Animated, t.ContentType, t.Size, t.SHA256, t.CreatedTS)
		return err
	})
}
