// Package storage is the keyserver's SQL storage: one implementation for
// SQLite and PostgreSQL (see internal/storage), tested on both.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"github.com/axon-hs/axon/internal/writer"

	"github.com/axon-hs/axon/internal/storage"
	istream "github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/streampos"
)

// DB holds the keyserver tables. Its WriteTx runs the write methods
// taking a tx, the outbox and the consumer positions together. Not found
// is storage.ErrNotFound.
type DB struct {
	*storage.DB
	// Fence is the writer epoch the consumers write under (internal/writer;
	// set only with several keyserver processes).
	Fence *writer.Fence
}

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB { return &DB{DB: db, Fence: writer.NewFence(WriterTable)} }

// WriterTable keeps the keyserver writer lease's epoch (internal/writer).
const WriterTable = "keyserver_writer"

// ConsumerSeq is the last applied sequence of a consumed stream.
func (d *DB) ConsumerSeq(ctx context.Context, stream string) (uint64, error) {
	return streampos.Get(ctx, d.DB, consumerTable, stream)
}

// DeadLetterer records the messages of stream the consumer gives up on.
func (d *DB) DeadLetterer(stream string) istream.DeadLetterFunc {
	return consumerTables.DeadLetterer(d.DB, stream)
}

// DeadLetters lists the messages the consumer gave up on.
func (d *DB) DeadLetters(ctx context.Context) ([]streampos.DeadLetter, error) {
	return streampos.DeadLetters(ctx, d.DB, consumerTables.DeadLetters)
}

// SetConsumerSeq records seq as applied, inside the effect's transaction.
func (d *DB) SetConsumerSeq(ctx context.Context, tx *storage.Tx, stream string, seq uint64) error {
	if err := d.Fence.Check(ctx, tx); err != nil {
		return err
	}
	return streampos.Set(ctx, tx, consumerTable, stream, seq)
}

// bumpStream advances userID's device list stream inside tx and returns
// the new stream ID. The row lock orders concurrent changes of one user.
func (d *DB) bumpStream(ctx context.Context, tx *storage.Tx, userID string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO keyserver_device_list_streams (user_id, stream_id) VALUES ($1, 1)
		ON CONFLICT (user_id) DO UPDATE SET stream_id = keyserver_device_list_streams.stream_id + 1
		RETURNING stream_id`, userID).Scan(&id)
	return id, err
}

// StreamID is userID's current device list stream ID (0 if it never
// changed).
func (d *DB) StreamID(ctx context.Context, userID string) (int64, error) {
	var id int64
	err := d.DB.QueryRowContext(ctx, `SELECT stream_id FROM keyserver_device_list_streams WHERE user_id = $1`, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}
