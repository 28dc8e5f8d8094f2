package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// errStoredMeanwhile fails a batch whose deferred event was stored by
// another transaction after the batch looked it up (a backfill): the
// batch's later steps treated it as new, so the batch is redone.
var errStoredMeanwhile = errors.New("a deferred event was stored meanwhile; retry the batch")

// EventBatch stores the timeline events of one consumer transaction:
// which of them are stored already is read in one query up front, and
// the new non-state ones wait to go in by multi-row statements (a
// round trip per run, not per event), and so do the events' shared
// notification rows (nothing in the transaction reads them before a
// flush). State events are stored at once, as later steps of the batch
// read them back.
type EventBatch struct {
	d       *DB
	p       *Positions
	stored  map[string]types.StreamPosition
	pending []*types.Event
	shared  []SharedNotification
}

// NewEventBatch looks up which of ids (the batch's event IDs) are stored.
func (d *DB) NewEventBatch(ctx context.Context, tx *storage.Tx, p *Positions, ids []string) (*EventBatch, error) {
	stored, err := d.storedPositions(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	return &EventBatch{d: d, p: p, stored: stored}, nil
}

// Insert is InsertEventFrom for the batch: false (ev.Pos set to the stored
// position) if ev is stored already or earlier in the batch.
func (b *EventBatch) Insert(ctx context.Context, tx *storage.Tx, ev *types.Event) (bool, error) {
	if pos, ok := b.stored[ev.EventID]; ok {
		ev.Pos = pos
		return false, nil
	}
	if ev.IsState() {
		if err := b.Flush(ctx, tx); err != nil {
			return false, err
		}
		inserted, err := b.d.InsertEventFrom(ctx, tx, b.p, ev, true)
		if err == nil {
			b.stored[ev.EventID] = ev.Pos
		}
		return inserted, err
	}
	pos, err := b.d.nextPosFrom(ctx, tx, b.p, CounterPDU)
	if err != nil {
		return false, err
	}
	ev.Pos = pos
	b.stored[ev.EventID] = pos
	b.pending = append(b.pending, ev)
	return true, nil
}

// InsertSharedNotification is DB.InsertSharedNotification for the batch:
// n waits for the next Flush.
func (b *EventBatch) InsertSharedNotification(_ context.Context, _ *storage.Tx, n SharedNotification) error {
	b.shared = append(b.shared, n)
	return nil
}

// Flush stores the waiting events, their search rows and the waiting
// shared notifications. Call it before anything in the transaction
// reads events or notifications, and before commit.
func (b *EventBatch) Flush(ctx context.Context, tx *storage.Tx) error {
	if err := b.flushEvents(ctx, tx); err != nil {
		return err
	}
	shared := b.shared
	b.shared = nil
	return insertSharedNotifications(ctx, tx, shared)
}

func (b *EventBatch) flushEvents(ctx context.Context, tx *storage.Tx) error {
	evs := b.pending
	if len(evs) == 0 {
		return nil
	}
	b.pending = nil
	err := storage.Runs(len(evs), 32, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*20)
		for _, ev := range evs[lo:hi] {
			args = append(args, eventArgs(ev, true)...)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO syncapi_events (`+eventColumns+`, in_timeline)
			VALUES `+storage.Rows(20, hi-lo)+` ON CONFLICT (event_id) DO NOTHING`, args...)
		if err != nil {
			return fmt.Errorf("insert %d events: %w", hi-lo, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(hi-lo) {
			if err == nil {
				err = errStoredMeanwhile
			}
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return indexEvents(ctx, tx, evs)
}

// storedPositions returns the positions of those of ids that are stored
// (storage.DB.InLookup).
func (d *DB) storedPositions(ctx context.Context, q storage.Querier, ids []string) (map[string]types.StreamPosition, error) {
	stored := make(map[string]types.StreamPosition, len(ids))
	err := inChunksOf(ids, 256, func(ids []string) error {
		in, args := d.InLookup(ids, 8)
		rows, err := q.QueryContext(ctx, `SELECT event_id, pos FROM syncapi_events WHERE event_id IN (`+in+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var pos int64
			if err := rows.Scan(&id, &pos); err != nil {
				return err
			}
			stored[id] = types.StreamPosition(pos)
		}
		return rows.Err()
	})
	return stored, err
}

// indexEvents writes the search rows of evs (new events) in multi-row
// statements.
func indexEvents(ctx context.Context, tx *storage.Tx, evs []*types.Event) error {
	var args []any
	for _, ev := range evs {
		if key, text := searchText(ev); key != "" {
			args = append(args, int64(ev.Pos), ev.RoomID, key, text)
		}
	}
	return storage.Runs(len(args)/4, 32, func(lo, hi int) error {
		run := args[lo*4 : hi*4]
		if tx.Dialect() == storage.Postgres {
			_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_search (pos, room_id, key, vec) VALUES `+searchRowsPostgres(hi-lo)+`
				ON CONFLICT (pos) DO NOTHING`, run...)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_search (docid, room_id, key, body) VALUES `+storage.Rows(4, hi-lo), run...)
		return err
	})
}

// searchRowsPostgres is the VALUES list of n search rows, the text of
// each turned into its vector.
func searchRowsPostgres(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		p := i*4 + 1
		b.WriteString("($" + strconv.Itoa(p) + ", $" + strconv.Itoa(p+1) + ", $" + strconv.Itoa(p+2) +
			", to_tsvector('simple', $" + strconv.Itoa(p+3) + "))")
	}
	return b.String()
}
