// Package storage is the syncapi's database: the room events, current
// state, membership history and ephemeral streams it serves /sync from.
// One implementation runs on SQLite and PostgreSQL.
package storage

import (
	"context"
	"fmt"

	"github.com/axon-hs/axon/internal/boundedmap"
	"github.com/axon-hs/axon/internal/storage"
	istream "github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/streampos"
	"github.com/axon-hs/axon/internal/writer"
	"github.com/axon-hs/axon/syncapi/types"
)

// Counter names for the syncapi's own stream positions.
const (
	CounterPDU         = "pdu"
	CounterAccountData = "account_data"
	CounterReceipt     = "receipt"
	CounterToDevice    = "to_device"
	CounterPresence    = "presence"
)

// DB holds the syncapi tables.
type DB struct {
	*storage.DB
	unread *unreadCache
	// unreadLog: notification rows this process committed as writer.
	unreadLog *unreadLog
	// memberships: users' last MembershipsAt answers (memberships_cache.go).
	memberships *boundedmap.Map[string, keptMemberships]
	// toDeviceAcked: devices with no to-device message left up to a
	// position (a message sent later takes a higher one).
	toDeviceAcked *boundedmap.Map[[2]string, types.StreamPosition]
	// Fence is the writer epoch every consumer transaction checks
	// (internal/writer; set only with syncapi replicas).
	Fence *writer.Fence
}

// WriterTable keeps the syncapi writer lease's epoch (internal/writer).
const WriterTable = "syncapi_writer"

// Bounds of the caches above.
const (
	maxAckedDevices = 50_000
)

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB {
	return &DB{DB: db, unread: newUnreadCache(), unreadLog: newUnreadLog(), Fence: writer.NewFence(WriterTable),
		memberships:   boundedmap.New[string, keptMemberships](maxKeptMemberships),
		toDeviceAcked: boundedmap.New[[2]string, types.StreamPosition](maxAckedDevices)}
}

// NextPos allocates the next position of a counter inside tx. The row
// lock held until commit makes positions commit in order.
func (d *DB) NextPos(ctx context.Context, tx *storage.Tx, counter string) (types.StreamPosition, error) {
	// One upsert, so concurrent first uses of a counter cannot both
	// insert it.
	var v int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO syncapi_counters (name, value) VALUES ($1, 1)
		ON CONFLICT (name) DO UPDATE SET value = syncapi_counters.value + 1 RETURNING value`, counter).Scan(&v); err != nil {
		return 0, fmt.Errorf("next %s position: %w", counter, err)
	}
	return types.StreamPosition(v), nil
}

// Positions is a run of one counter's positions reserved inside a write
// transaction with one statement and handed out in order. What is left
// over at commit stays unused, like the position of a duplicate (tokens
// do not mind gaps). The room event consumer reserves its batch's
// positions at once: one upsert per event was ~7 % of server CPU under
// load.
type Positions struct {
	counter   string
	next, end types.StreamPosition
}

// ReservePositions reserves n positions of counter inside tx.
func (d *DB) ReservePositions(ctx context.Context, tx *storage.Tx, counter string, n int) (*Positions, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO syncapi_counters (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = syncapi_counters.value + $2 RETURNING value`, counter, int64(n)).Scan(&v); err != nil {
		return nil, fmt.Errorf("reserve %d %s positions: %w", n, counter, err)
	}
	return &Positions{counter: counter, next: types.StreamPosition(v - int64(n) + 1), end: types.StreamPosition(v)}, nil
}

// has reports whether p still holds a position of counter.
func (p *Positions) has(counter string) bool {
	return p != nil && p.counter == counter && p.next <= p.end
}

// nextPosFrom takes the next position of counter from p, or from the
// counter itself once p is used up (or nil, or of another counter): then
// it is later than every reserved one, so positions keep their order.
func (d *DB) nextPosFrom(ctx context.Context, tx *storage.Tx, p *Positions, counter string) (types.StreamPosition, error) {
	if p.has(counter) {
		pos := p.next
		p.next++
		return pos, nil
	}
	return d.NextPos(ctx, tx, counter)
}

// MaxPositions reads the newest committed position of every stored stream.
func (d *DB) MaxPositions(ctx context.Context) (types.StreamToken, error) {
	var t types.StreamToken
	rows, err := d.DB.QueryContext(ctx, `SELECT name, value FROM syncapi_counters`)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return t, err
		}
		switch name {
		case CounterPDU:
			t.PDU = types.StreamPosition(v)
		case CounterAccountData:
			t.AccountData = types.StreamPosition(v)
		case CounterReceipt:
			t.Receipt = types.StreamPosition(v)
		case CounterToDevice:
			t.ToDevice = types.StreamPosition(v)
		case CounterPresence:
			t.Presence = types.StreamPosition(v)
		}
	}
	return t, rows.Err()
}

// consumerTables keep the consumed streams' positions and dead letters.
var consumerTables = streampos.Tables{Positions: "syncapi_consumer_seqs", DeadLetters: "syncapi_dead_letters"}

// ConsumerSeq is the last applied sequence of a consumed stream.
func (d *DB) ConsumerSeq(ctx context.Context, stream string) (uint64, error) {
	return streampos.Get(ctx, d.DB, consumerTables.Positions, stream)
}

// SetConsumerSeq records seq as applied, inside the effect's transaction.
func (d *DB) SetConsumerSeq(ctx context.Context, tx *storage.Tx, stream string, seq uint64) error {
	if err := d.Fence.Check(ctx, tx); err != nil {
		return err
	}
	return streampos.Set(ctx, tx, consumerTables.Positions, stream, seq)
}

// DeadLetterer records the messages of stream the consumer gives up on.
func (d *DB) DeadLetterer(stream string) istream.DeadLetterFunc {
	return consumerTables.DeadLetterer(d.DB, stream)
}

// DeadLetters lists the messages the consumers gave up on.
func (d *DB) DeadLetters(ctx context.Context) ([]streampos.DeadLetter, error) {
	return streampos.DeadLetters(ctx, d.DB, consumerTables.DeadLetters)
}
