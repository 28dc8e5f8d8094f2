package storage

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// InsertBackfilledEvent stores a backfilled timeline event at a position
// below live history, ordered by depth (types.BackfillPos); the slot
// within a depth comes from the event ID, moved on if taken. It returns
// false, without error, if the event is already stored or cannot be
// placed.
func (d *DB) InsertBackfilledEvent(ctx context.Context, tx *storage.Tx, ev *types.Event, depth int64) (bool, error) {
	var existing int64
	err := tx.QueryRowContext(ctx, `SELECT pos FROM syncapi_events WHERE event_id = $1`, ev.EventID).Scan(&existing)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(ev.EventID))
	slot := h.Sum32()
	for range 64 {
		pos, ok := types.BackfillPos(depth, slot)
		if !ok {
			return false, nil
		}
		var taken int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM syncapi_events WHERE pos = $1`, int64(pos)).Scan(&taken)
		if errors.Is(err, sql.ErrNoRows) {
			ev.Pos = pos
			return d.insertEventAt(ctx, tx, ev, true)
		}
		if err != nil {
			return false, err
		}
		slot++
	}
	return false, nil
}
