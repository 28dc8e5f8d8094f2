// Package storage is the pushserver's SQL storage: pushers and how far
// each has delivered. One implementation for SQLite and PostgreSQL (see
// internal/storage), tested on both.
package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"github.com/axon-hs/axon/internal/writer"

	"github.com/axon-hs/axon/internal/storage"
	istream "github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/streampos"
)

// DB holds the pushserver tables.
type DB struct {
	*storage.DB
	// Fence is the writer epoch the consumers write under (internal/writer;
	// set only with several pushserver processes).
	Fence *writer.Fence
}

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB { return &DB{DB: db, Fence: writer.NewFence(WriterTable)} }

// WriterTable keeps the pushserver writer lease's epoch (internal/writer).
const WriterTable = "pushserver_writer"

// Pusher is one registered pusher.
type Pusher struct {
	UserID            string          `json:"-"`
	AppID             string          `json:"app_id"`
	PushKey           string          `json:"pushkey"`
	Kind              string          `json:"kind"`
	AppDisplayName    string          `json:"app_display_name"`
	DeviceDisplayName string          `json:"device_display_name"`
	ProfileTag        string          `json:"profile_tag,omitempty"`
	Lang              string          `json:"lang"`
	Data              json.RawMessage `json:"data"`
	DeviceID          string          `json:"-"`
	// PushKeyTS is when the pushkey was last set (unix seconds).
	PushKeyTS int64 `json:"-"`
	// DeliveredPos is the last notification position delivered.
	DeliveredPos int64 `json:"-"`
}

// Key identifies a pusher.
type Key struct{ UserID, AppID, PushKey string }

// Key returns p's key.
func (p *Pusher) Key() Key { return Key{p.UserID, p.AppID, p.PushKey} }

const pusherColumns = `user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, device_id, pushkey_ts, delivered_pos`

// Pushers lists the user's pushers.
func (d *DB) Pushers(ctx context.Context, userID string) ([]Pusher, error) {
	return scanPushers(d.DB.QueryContext(ctx, `SELECT `+pusherColumns+` FROM pushserver_pushers WHERE user_id = $1 ORDER BY app_id, pushkey`, userID))
}

// AllPushers lists every pusher (loaded on start).
func (d *DB) AllPushers(ctx context.Context) ([]Pusher, error) {
	return scanPushers(d.DB.QueryContext(ctx, `SELECT `+pusherColumns+` FROM pushserver_pushers ORDER BY user_id, app_id, pushkey`))
}

// CountOtherPushers is how many pushers the user has besides k.
func (d *DB) CountOtherPushers(ctx context.Context, k Key) (int, error) {
	var n int
	err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM pushserver_pushers WHERE user_id = $1 AND NOT (app_id = $2 AND pushkey = $3)`,
		k.UserID, k.AppID, k.PushKey).Scan(&n)
	return n, err
}

// SetPusher creates or updates p. An update keeps the delivery position
// (and p.DeliveredPos is ignored). Unless keepOthers, pushers of other
// users with the same app ID and pushkey are removed and returned: the
// pushkey moved to this user.
func (d *DB) SetPusher(ctx context.Context, p Pusher, keepOthers bool) (removed []Key, err error) {
	err = d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		removed = nil
		if !keepOthers {
			users, err := storage.Strings(tx.QueryContext(ctx, `DELETE FROM pushserver_pushers WHERE app_id = $1 AND pushkey = $2 AND user_id <> $3 RETURNING user_id`,
				p.AppID, p.PushKey, p.UserID))
			if err != nil {
				return err
			}
			for _, u := range users {
				removed = append(removed, Key{u, p.AppID, p.PushKey})
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pushserver_pushers (`+pusherColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (app_id, pushkey, user_id) DO UPDATE SET kind = excluded.kind, app_display_name = excluded.app_display_name,
			device_display_name = excluded.device_display_name, profile_tag = excluded.profile_tag, lang = excluded.lang,
			data = excluded.data, device_id = excluded.device_id, pushkey_ts = excluded.pushkey_ts`,
			p.UserID, p.AppID, p.PushKey, p.Kind, p.AppDisplayName, p.DeviceDisplayName, p.ProfileTag, p.Lang, string(p.Data), p.DeviceID, p.PushKeyTS, p.DeliveredPos)
		return err
	})
	return removed, err
}

// DeletePusher removes one pusher; it reports whether it existed.
func (d *DB) DeletePusher(ctx context.Context, k Key) (bool, error) {
	var n int64
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM pushserver_pushers WHERE user_id = $1 AND app_id = $2 AND pushkey = $3`, k.UserID, k.AppID, k.PushKey)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// ConsumerSeq is the last applied sequence of a consumed stream.
func (d *DB) ConsumerSeq(ctx context.Context, stream string) (uint64, error) {
	return streampos.Get(ctx, d.DB, "pushserver_consumer_seqs", stream)
}

// DeadLetterer records the messages of stream the consumer gives up on.
func (d *DB) DeadLetterer(stream string) istream.DeadLetterFunc {
	return consumerTables.DeadLetterer(d.DB, stream)
}

// Pusher is one stored pusher (nil if there is none).
func (d *DB) Pusher(ctx context.Context, k Key) (*Pusher, error) {
	ps, err := d.Pushers(ctx, k.UserID)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].Key() == k {
			return &ps[i], nil
		}
	}
	return nil, nil
}

// DeviceChange is one user's deleted devices, from a stream message.
type DeviceChange struct {
	UserID    string
	DeviceIDs []string
}

// DeleteDevicePushers removes the pushers the deleted devices created and
// records seq of stream as applied, in one transaction; it returns the
// pushers removed.
func (d *DB) DeleteDevicePushers(ctx context.Context, changes []DeviceChange, stream string, seq uint64) ([]Key, error) {
	var out []Key
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		out = nil
		for _, c := range changes {
			for _, dev := range c.DeviceIDs {
				keys, err := deleteDevicePushers(ctx, tx, c.UserID, dev)
				if err != nil {
					return err
				}
				out = append(out, keys...)
			}
		}
		if err := d.Fence.Check(ctx, tx); err != nil {
			return err
		}
		return streampos.Set(ctx, tx, "pushserver_consumer_seqs", stream, seq)
	})
	return out, err
}

func deleteDevicePushers(ctx context.Context, tx *storage.Tx, userID, deviceID string) ([]Key, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM pushserver_pushers WHERE user_id = $1 AND device_id = $2 RETURNING app_id, pushkey`, userID, deviceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k := Key{UserID: userID}
		if err := rows.Scan(&k.AppID, &k.PushKey); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SetDelivered records that k delivered up to pos (refused, ErrFenced,
// once another process delivers).
func (d *DB) SetDelivered(ctx context.Context, k Key, pos int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		if err := d.Fence.Check(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE pushserver_pushers SET delivered_pos = $4 WHERE user_id = $1 AND app_id = $2 AND pushkey = $3 AND delivered_pos < $4`,
			k.UserID, k.AppID, k.PushKey, pos)
		return err
	})
}

func scanPushers(rows *sql.Rows, err error) ([]Pusher, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Pusher
	for rows.Next() {
		var p Pusher
		var data string
		if err := rows.Scan(&p.UserID, &p.AppID, &p.PushKey, &p.Kind, &p.AppDisplayName, &p.DeviceDisplayName, &p.ProfileTag, &p.Lang,
			&data, &p.DeviceID, &p.PushKeyTS, &p.DeliveredPos); err != nil {
			return nil, err
		}
		p.Data = json.RawMessage(data)
		out = append(out, p)
	}
	return out, rows.Err()
}
