// Package storage is the appservice component's SQL storage: the durable
// per-appservice queue of what is to be pushed, transaction IDs and the
// consumed stream positions. One implementation for SQLite and
// PostgreSQL (see internal/storage), tested on both.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"github.com/axon-hs/axon/internal/writer"
	"strconv"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
	istream "github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/streampos"
)

// Kinds of queued items: where in the transaction body they go.
const (
	KindEvent     = "event"
	KindEphemeral = "ephemeral"
	KindToDevice  = "to_device"
	// KindDeviceList: a user (JSON string) whose devices changed (MSC3202).
	KindDeviceList = "device_list"
	// KindDeviceListLeft: a user (JSON string) who no longer shares a
	// room with the appservice's users (MSC3202).
	KindDeviceListLeft = "device_list_left"
)

// Item is one thing queued for an appservice.
type Item struct {
	ID           int64
	AppserviceID string
	Kind         string
	// Body is the JSON as the appservice receives it.
	Body []byte
}

// DB holds the appservice tables.
type DB struct {
	*storage.DB
	// Fence is the writer epoch the consumers write under (internal/writer;
	// set only with several appservice processes).
	Fence *writer.Fence
}

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB { return &DB{DB: db, Fence: writer.NewFence(WriterTable)} }

// WriterTable keeps the appservice writer lease's epoch (internal/writer).
const WriterTable = "appservice_writer"

// DeadLetterer records the messages of stream the consumers give up on.
func (d *DB) DeadLetterer(stream string) istream.DeadLetterFunc {
	return consumerTables.DeadLetterer(d.DB, stream)
}

// WriteTx runs fn in one write transaction (queueing and the stream
// position go together).
func (d *DB) WriteTx(ctx context.Context, fn func(tx *storage.Tx) error) error {
	return d.DB.WriteTx(ctx, fn)
}

// ConsumerSeq is the last applied sequence of a consumed stream.
func (d *DB) ConsumerSeq(ctx context.Context, stream string) (uint64, error) {
	return streampos.Get(ctx, d.DB, consumerTable, stream)
}

// SetConsumerSeq records seq as applied, inside the effect's transaction.
func (d *DB) SetConsumerSeq(ctx context.Context, tx *storage.Tx, stream string, seq uint64) error {
	if err := d.Fence.Check(ctx, tx); err != nil {
		return err
	}
	return streampos.Set(ctx, tx, consumerTable, stream, seq)
}

// Enqueue appends items inside tx, in order.
func (d *DB) Enqueue(ctx context.Context, tx *storage.Tx, items []Item) error {
	for _, it := range items {
		if _, err := tx.ExecContext(ctx, `INSERT INTO appservice_queue (appservice_id, kind, body) VALUES ($1, $2, $3)`,
			it.AppserviceID, it.Kind, string(it.Body)); err != nil {
			return err
		}
	}
	return nil
}

// InFlight is the transaction started for appserviceID and not yet
// acknowledged (0 and nothing if there is none): after a restart it is
// sent again with the same ID and items.
func (d *DB) InFlight(ctx context.Context, appserviceID string) (int64, []Item, error) {
	var txnID sql.NullInt64
	err := d.DB.QueryRowContext(ctx, `SELECT MIN(txn_id) FROM appservice_queue WHERE appservice_id = $1 AND txn_id IS NOT NULL`,
		appserviceID).Scan(&txnID)
	if err != nil || !txnID.Valid {
		return 0, nil, err
	}
	items, err := d.txnItems(ctx, d.DB, appserviceID, txnID.Int64)
	return txnID.Int64, items, err
}

// StartTxn puts the oldest max queued items of appserviceID into a new
// transaction and returns it (0 and nothing if nothing is queued).
func (d *DB) StartTxn(ctx context.Context, appserviceID string, max int) (int64, []Item, error) {
	var txnID int64
	var items []Item
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		txnID, items = 0, nil // run again after a lost connection: nothing of the first run holds
		// Only the writer starts transactions (a former one paused past
		// its lease must not split the queue differently).
		if err := d.Fence.Check(ctx, tx); err != nil {
			return err
		}
		ids, err := int64s(tx.QueryContext(ctx, `SELECT id FROM appservice_queue WHERE appservice_id = $1 AND txn_id IS NULL ORDER BY id LIMIT $2`,
			appserviceID, max))
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO appservice_txn_ids (appservice_id, last_txn_id) VALUES ($1, 1)
			ON CONFLICT (appservice_id) DO UPDATE SET last_txn_id = appservice_txn_ids.last_txn_id + 1
			RETURNING last_txn_id`, appserviceID).Scan(&txnID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE appservice_queue SET txn_id = $1 WHERE id IN (`+idList(ids)+`)`, txnID); err != nil {
			return err
		}
		items, err = d.txnItems(ctx, tx, appserviceID, txnID)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return txnID, items, nil
}

// Ack deletes the items of an acknowledged transaction.
func (d *DB) Ack(ctx context.Context, appserviceID string, txnID int64) error {
	_, err := d.DB.ExecContext(ctx, `DELETE FROM appservice_queue WHERE appservice_id = $1 AND txn_id = $2`, appserviceID, txnID)
	return err
}

// QueueDepth counts what is waiting for appserviceID (in flight included).
func (d *DB) QueueDepth(ctx context.Context, appserviceID string) (int64, error) {
	var n int64
	err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM appservice_queue WHERE appservice_id = $1`, appserviceID).Scan(&n)
	return n, err
}

func (d *DB) txnItems(ctx context.Context, q storage.Querier, appserviceID string, txnID int64) ([]Item, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, body FROM appservice_queue WHERE appservice_id = $1 AND txn_id = $2 ORDER BY id`,
		appserviceID, txnID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it := Item{AppserviceID: appserviceID}
		var body string
		if err := rows.Scan(&it.ID, &it.Kind, &body); err != nil {
			return nil, err
		}
		it.Body = []byte(body)
		out = append(out, it)
	}
	return out, rows.Err()
}

func int64s(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// idList formats IDs for an IN clause (they are integers from the
// database, never user input).
func idList(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// StartPosition is where consuming stream resumes: the stored position,
// or (first start) current, which is then stored, so a newly registered
// appservice is sent what happens from now on, not the whole history.
func (d *DB) StartPosition(ctx context.Context, stream string, current uint64) (uint64, error) {
	var seq int64
	err := d.DB.QueryRowContext(ctx, `SELECT seq FROM `+consumerTable+` WHERE stream = $1`, stream).Scan(&seq)
	if err == nil {
		return uint64(seq), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	err = d.DB.WriteTx(ctx, func(tx *storage.Tx) error { return streampos.Set(ctx, tx, consumerTable, stream, current) })
	return current, err
}

// ForgetPositions drops the stored positions of streams (all when none
// are named): a stream not consumed in this run is started from its end
// when it is consumed again, rather than replaying what happened meanwhile.
func (d *DB) ForgetPositions(ctx context.Context, streams ...string) error {
	if len(streams) == 0 {
		_, err := d.DB.ExecContext(ctx, `DELETE FROM `+consumerTable)
		return err
	}
	for _, s := range streams {
		if _, err := d.DB.ExecContext(ctx, `DELETE FROM `+consumerTable+` WHERE stream = $1`, s); err != nil {
			return err
		}
	}
	return nil
}
