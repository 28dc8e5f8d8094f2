// Package storage holds mediaapi's tables: media metadata, thumbnails and
// URL preview cache. One SQL text for SQLite and PostgreSQL.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/axon-hs/axon/internal/storage"
)

// DB is mediaapi's database.
type DB struct{ *storage.DB }

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB { return &DB{DB: db} }

// Media is one row of mediaapi_media. SHA256 is "" while an asynchronous
// upload is pending. Times are Unix milliseconds.
type Media struct {
	Origin      string
	MediaID     string
	Uploader    string
	ContentType string
	FileName    string
	Size        int64
	SHA256      string
	CreatedTS   int64
	ExpiresTS   int64
	LastAccess  int64
	Quarantined bool
	// QuarantinedBy is the admin who quarantined it ("" when not).
	QuarantinedBy string
	// Protected media (safe_from_quarantine) is never quarantined nor
	// deleted by age.
	Protected bool
}

// Pending reports whether the content has not been uploaded yet.
func (m *Media) Pending() bool { return m.SHA256 == "" }

const mediaColumns = `origin, media_id, uploader, content_type, file_name, size, sha256, created_ts, expires_ts, last_access_ts, quarantined, quarantined_by, safe_from_quarantine`

func scanMedia(row interface{ Scan(...any) error }) (*Media, error) {
	var m Media
	err := row.Scan(&m.Origin, &m.MediaID, &m.Uploader, &m.ContentType, &m.FileName, &m.Size, &m.SHA256,
		&m.CreatedTS, &m.ExpiresTS, &m.LastAccess, &m.Quarantined, &m.QuarantinedBy, &m.Protected)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	return &m, err
}

// InsertMedia stores a new row; an existing (origin, media_id) gives an
// error for which storage.IsUniqueViolation is true.
func (d *DB) InsertMedia(ctx context.Context, m *Media) error {
	_, err := d.DB.ExecContext(ctx, `INSERT INTO mediaapi_media (`+mediaColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		m.Origin, m.MediaID, m.Uploader, m.ContentType, m.FileName, m.Size, m.SHA256,
		m.CreatedTS, m.ExpiresTS, m.LastAccess, m.Quarantined, m.QuarantinedBy, m.Protected)
	return err
}

// UpsertRemote stores (or refreshes) a cached remote file's row.
func (d *DB) UpsertRemote(ctx context.Context, m *Media) error {
	_, err := d.DB.ExecContext(ctx, `INSERT INTO mediaapi_media (`+mediaColumns+`)
		VALUES ($1, $2, '', $3, $4, $5, $6, $7, 0, $8, FALSE, '', FALSE)
		ON CONFLICT (origin, media_id) DO UPDATE SET content_type = excluded.content_type,
			file_name = excluded.file_name, size = excluded.size, sha256 = excluded.sha256,
			created_ts = excluded.created_ts, last_access_ts = excluded.last_access_ts`,
		m.Origin, m.MediaID, m.ContentType, m.FileName, m.Size, m.SHA256, m.CreatedTS, m.LastAccess)
	return err
}

// Media reads one row, or storage.ErrNotFound.
func (d *DB) Media(ctx context.Context, origin, mediaID string) (*Media, error) {
	return scanMedia(d.DB.QueryRowContext(ctx, `SELECT `+mediaColumns+` FROM mediaapi_media
		WHERE origin = $1 AND media_id = $2`, origin, mediaID))
}

// CompletePending fills in the content of a pending upload made by
// uploader. It reports false when no such pending row exists (already
// uploaded, expired or someone else's).
func (d *DB) CompletePending(ctx context.Context, m *Media, now int64) (bool, error) {
	res, err := d.DB.ExecContext(ctx, `UPDATE mediaapi_media SET content_type = $1, file_name = $2, size = $3,
		sha256 = $4, created_ts = $5, last_access_ts = $5, expires_ts = 0
		WHERE origin = $6 AND media_id = $7 AND uploader = $8 AND sha256 = '' AND expires_ts > $5`,
		m.ContentType, m.FileName, m.Size, m.SHA256, now, m.Origin, m.MediaID, m.Uploader)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountPending counts uploader's pending uploads that have not expired.
func (d *DB) CountPending(ctx context.Context, uploader string, now int64) (int, error) {
	var n int
	err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM mediaapi_media
		WHERE uploader = $1 AND sha256 = '' AND expires_ts > $2`, uploader, now).Scan(&n)
	return n, err
}

// DeleteExpiredPending removes pending uploads whose time ran out (not
// the placeholders that keep uncached remote media quarantined).
func (d *DB) DeleteExpiredPending(ctx context.Context, now int64) (int64, error) {
	res, err := d.DB.ExecContext(ctx, `DELETE FROM mediaapi_media WHERE sha256 = '' AND expires_ts <= $1 AND quarantined = FALSE`, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TouchMedia records an access (kept coarse by the caller).
func (d *DB) TouchMedia(ctx context.Context, origin, mediaID string, now int64) error {
	_, err := d.DB.ExecContext(ctx, `UPDATE mediaapi_media SET last_access_ts = $1 WHERE origin = $2 AND media_id = $3`, now, origin, mediaID)
	return err
}

// StaleRemote lists cached remote media (not from ours) last accessed
// before the given time, oldest first. Quarantined rows stay: they are
// what keeps the file from being fetched and served again.
func (d *DB) StaleRemote(ctx context.Context, ours string, before int64, limit int) ([]Media, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT `+mediaColumns+` FROM mediaapi_media
		WHERE origin <> $1 AND uploader = '' AND last_access_ts < $2 AND quarantined = FALSE ORDER BY last_access_ts LIMIT $3`, ours, before, limit)
	if err != nil {
		return nil, err
	}
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

// DeleteMedia removes a media row and its thumbnails, returning the file
// hashes they referred to (delete the files no row uses any more).
func (d *DB) DeleteMedia(ctx context.Context, origin, mediaID string) ([]string, error) {
	var shas []string
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		shas = nil
		// The media row first: its lock orders this against
		// InsertThumbnail, whose thumbnail the next statements then see.
		var sha string
		err := tx.QueryRowContext(ctx, `DELETE FROM mediaapi_media WHERE origin = $1 AND media_id = $2 RETURNING sha256`,
			origin, mediaID).Scan(&sha)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.QueryContext(ctx, `DELETE FROM mediaapi_thumbnails WHERE origin = $1 AND media_id = $2 RETURNING sha256`, origin, mediaID)
		if shas, err = storage.Strings(rows, err); err != nil {
			return err
		}
		if sha != "" && !slices.Contains(shas, sha) {
			shas = append(shas, sha)
		}
		slices.Sort(shas)
		shas = slices.Compact(shas)
		return nil
	})
	return shas, err
}

// Thumbnail is one row of mediaapi_thumbnails.
type Thumbnail struct {
	Origin, MediaID string
	Width, Height   int
	Method          string
	Animated        bool
	ContentType     string
	Size            int64
	SHA256          string
	CreatedTS       int64
}

const insertThumbnailSQL = `INSERT INTO mediaapi_thumbnails
	(origin, media_id, width, height, method, animated, content_type, size, sha256, created_ts)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
	ON CONFLICT (origin, media_id, width, height, method, animated) DO UPDATE SET
		content_type = excluded.content_type, size = excluded.size, sha256 = excluded.sha256, created_ts = excluded.created_ts`

// Thumbnails lists the stored thumbnails of one file.
func (d *DB) Thumbnails(ctx context.Context, origin, mediaID string) ([]Thumbnail, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT origin, media_id, width, height, method, animated, content_type, size, sha256, created_ts
		FROM mediaapi_thumbnails WHERE origin = $1 AND media_id = $2 ORDER BY width, height`, origin, mediaID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Thumbnail
	for rows.Next() {
		var t Thumbnail
		if err := rows.Scan(&t.Origin, &t.MediaID, &t.Width, &t.Height, &t.Method, &t.Animated, &t.ContentType, &t.Size, &t.SHA256, &t.CreatedTS); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// URLPreview reads a cached preview (JSON) of url for hour, or
// storage.ErrNotFound.
func (d *DB) URLPreview(ctx context.Context, url string, hour int64) (string, error) {
	var og string
	err := d.DB.QueryRowContext(ctx, `SELECT og_json FROM mediaapi_url_previews WHERE url = $1 AND hour = $2`, url, hour).Scan(&og)
	if errors.Is(err, sql.ErrNoRows) {
		return "", storage.ErrNotFound
	}
	return og, err
}

// StoreURLPreview caches a preview and drops those older than before.
func (d *DB) StoreURLPreview(ctx context.Context, url string, hour int64, og string, now, before int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mediaapi_url_previews (url, hour, og_json, created_ts) VALUES ($1, $2, $3, $4)
			ON CONFLICT (url, hour) DO UPDATE SET og_json = excluded.og_json, created_ts = excluded.created_ts`, url, hour, og, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM mediaapi_url_previews WHERE created_ts < $1`, before)
		return err
	})
}
