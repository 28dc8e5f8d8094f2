package storage

import (
	"context"
	"fmt"

	"github.com/axon-hs/axon/internal/storage"
)

// userMediaColumns are the columns a user's media may be ordered by, by
// the admin API's names (validated by the caller).
var userMediaColumns = map[string]string{
	"media_id": "media_id", "upload_name": "file_name", "created_ts": "created_ts",
	"last_access_ts": "last_access_ts", "media_length": "size", "media_type": "content_type",
	"quarantined_by": "quarantined_by", "safe_from_quarantine": "safe_from_quarantine",
}

// UserMediaOrder reports whether orderBy is a column UserMedia sorts by.
func UserMediaOrder(orderBy string) bool { _, ok := userMediaColumns[orderBy]; return ok }

// UserMedia returns one page of the media uploader uploaded (pending
// uploads left out) and how many there are in all.
func (d *DB) UserMedia(ctx context.Context, origin, uploader, orderBy string, desc bool, from, limit int) ([]Media, int, error) {
	var total int
	where := ` FROM mediaapi_media WHERE origin = $1 AND uploader = $2 AND sha256 <> ''`
	if err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*)`+where, origin, uploader).Scan(&total); err != nil {
		return nil, 0, err
	}
	col, ok := userMediaColumns[orderBy]
	if !ok {
		col = "created_ts"
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT `+mediaColumns+where+
		fmt.Sprintf(` ORDER BY %s %s, media_id %s LIMIT $3 OFFSET $4`, col, dir, dir), origin, uploader, limit, from)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanMediaRows(rows)
	return out, total, err
}

func scanMediaRows(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]Media, error) {
	defer rows.Close()
	var out []Media
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// Ref names one piece of media.
type Ref struct{ Origin, MediaID string }

// Quarantine marks media as not to be served, recording by (the admin),
// and reports how many were newly quarantined. Protected media is left
// alone. Media of another server (not ours) that is not cached gets a
// quarantined placeholder row, so it is never fetched.
func (d *DB) Quarantine(ctx context.Context, ours string, refs []Ref, by string, now int64) (int, error) {
	n := 0
	for start := 0; start < len(refs); start += 200 {
		chunk := refs[start:min(start+200, len(refs))]
		done := 0
		err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
			done = 0 // run again after a lost connection: counted afresh
			for _, r := range chunk {
				res, err := tx.ExecContext(ctx, `UPDATE mediaapi_media SET quarantined = TRUE, quarantined_by = $1
					WHERE origin = $2 AND media_id = $3 AND quarantined = FALSE AND safe_from_quarantine = FALSE`, by, r.Origin, r.MediaID)
				if err != nil {
					return err
				}
				changed, err := res.RowsAffected()
				if err != nil {
					return err
				}
				if changed == 0 && r.Origin != ours {
					res, err = tx.ExecContext(ctx, `INSERT INTO mediaapi_media (origin, media_id, created_ts, last_access_ts, quarantined, quarantined_by)
						VALUES ($1, $2, $3, $3, TRUE, $4) ON CONFLICT (origin, media_id) DO NOTHING`, r.Origin, r.MediaID, now, by)
					if err != nil {
						return err
					}
					if changed, err = res.RowsAffected(); err != nil {
						return err
					}
				}
				done += int(changed)
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += done
	}
	return n, nil
}

// QuarantineUploader quarantines every (unprotected) file uploader
// uploaded and reports how many were newly quarantined.
func (d *DB) QuarantineUploader(ctx context.Context, origin, uploader, by string) (int, error) {
	res, err := d.DB.ExecContext(ctx, `UPDATE mediaapi_media SET quarantined = TRUE, quarantined_by = $1
		WHERE origin = $2 AND uploader = $3 AND sha256 <> '' AND quarantined = FALSE AND safe_from_quarantine = FALSE`, by, origin, uploader)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Unquarantine lets media be served again; storage.ErrNotFound when there
// is no such row.
func (d *DB) Unquarantine(ctx context.Context, origin, mediaID string) error {
	return d.execOne(ctx, `UPDATE mediaapi_media SET quarantined = FALSE, quarantined_by = '' WHERE origin = $1 AND media_id = $2`, origin, mediaID)
}

// SetProtected sets safe_from_quarantine; storage.ErrNotFound when there
// is no such row.
func (d *DB) SetProtected(ctx context.Context, origin, mediaID string, protected bool) error {
	return d.execOne(ctx, `UPDATE mediaapi_media SET safe_from_quarantine = $3 WHERE origin = $1 AND media_id = $2`, origin, mediaID, protected)
}

func (d *DB) execOne(ctx context.Context, q string, args ...any) error {
	res, err := d.DB.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = storage.ErrNotFound
	}
	return err
}

// LocalBefore lists stored (not pending, not protected) media of origin
// last accessed before before and larger than sizeGT bytes, by media ID
// after the given one, at most limit: keyset pages, so rows the caller
// keeps are not read again.
func (d *DB) LocalBefore(ctx context.Context, origin string, before, sizeGT int64, after string, limit int) ([]Media, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT `+mediaColumns+` FROM mediaapi_media
		WHERE origin = $1 AND sha256 <> '' AND safe_from_quarantine = FALSE AND last_access_ts < $2 AND size > $3 AND media_id > $4
		ORDER BY media_id LIMIT $5`, origin, before, sizeGT, after, limit)
	if err != nil {
		return nil, err
	}
	return scanMediaRows(rows)
}

// FilesOf lists the file hashes a media row and its thumbnails use.
func (d *DB) FilesOf(ctx context.Context, origin, mediaID string) ([]string, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT sha256 FROM mediaapi_media WHERE origin = $1 AND media_id = $2 AND sha256 <> ''
		UNION SELECT sha256 FROM mediaapi_thumbnails WHERE origin = $1 AND media_id = $2`, origin, mediaID)
	return storage.Strings(rows, err)
}
