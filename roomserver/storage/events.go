package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/axon-hs/axon/internal/storage"
)

// Event statuses.
const (
	StatusAccepted   = 0
	StatusSoftFailed = 1
	StatusRejected   = 2
	StatusOutlier    = 3
)

// Event is a row of roomserver_events.
type Event struct {
	NID            int64
	RoomNID        int64
	EventID        string
	Type           string
	StateKey       *string
	Depth          int64
	OriginServerTS int64
	SnapshotNID    int64 // state before the event
	Status         int
	RedactedBy     string
	JSON           []byte
}

// InsertEvent stores an event; it returns the new NID.
func (d *DB) InsertEvent(ctx context.Context, tx *storage.Tx, e *Event) (int64, error) {
	return tx.InsertID(ctx, `INSERT INTO roomserver_events
		(room_nid, event_id, event_type, state_key, depth, origin_server_ts, snapshot_nid, status, event_json)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, "event_nid",
		e.RoomNID, e.EventID, e.Type, e.StateKey, e.Depth, e.OriginServerTS, e.SnapshotNID, e.Status, storage.Text(e.JSON))
}

// eventsPerInsert bounds one multi-row insert (9 bind parameters a
// row); runs are a power of two (storage.Runs).
const eventsPerInsert = 64

// InsertEvents stores events in multi-row statements (a remote join's
// thousands of outliers, a /send transaction's events of a room) and
// sets each one's NID. NIDs follow the order of evs.
func (d *DB) InsertEvents(ctx context.Context, tx *storage.Tx, evs []*Event) error {
	return storage.Runs(len(evs), eventsPerInsert, func(lo, hi int) error {
		if hi-lo == 1 {
			nid, err := d.InsertEvent(ctx, tx, evs[lo])
			evs[lo].NID = nid
			return err
		}
		return d.insertEventRun(ctx, tx, evs[lo:hi])
	})
}

func (d *DB) insertEventRun(ctx context.Context, tx *storage.Tx, chunk []*Event) error {
	args := make([]any, 0, len(chunk)*9)
	byID := make(map[string]*Event, len(chunk))
	for _, e := range chunk {
		args = append(args, e.RoomNID, e.EventID, e.Type, e.StateKey, e.Depth, e.OriginServerTS, e.SnapshotNID, e.Status, storage.Text(e.JSON))
		byID[e.EventID] = e
	}
	// RETURNING's row order is not promised: rows are matched by ID.
	rows, err := tx.QueryContext(ctx, `INSERT INTO roomserver_events
		(room_nid, event_id, event_type, state_key, depth, origin_server_ts, snapshot_nid, status, event_json)
		VALUES `+storage.Rows(9, len(chunk))+` RETURNING event_nid, event_id`, args...)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		var nid int64
		var id string
		if err := rows.Scan(&nid, &id); err != nil {
			rows.Close()
			return err
		}
		if e := byID[id]; e != nil {
			e.NID = nid
			n++
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(chunk) {
		return fmt.Errorf("inserted %d of %d events", n, len(chunk))
	}
	return nil
}

// UpdateEventJSON rewrites a stored event (redaction).
func (d *DB) UpdateEventJSON(ctx context.Context, tx *storage.Tx, nid int64, eventJSON []byte, redactedBy string) error {
	_, err := tx.ExecContext(ctx, `UPDATE roomserver_events SET event_json = $1, redacted_by = $2 WHERE event_nid = $3`,
		string(eventJSON), redactedBy, nid)
	return err
}

const eventCols = `event_nid, room_nid, event_id, event_type, state_key, depth, origin_server_ts, snapshot_nid, status, redacted_by, event_json`

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	var e Event
	var sk sql.NullString
	var js string
	if err := sc.Scan(&e.NID, &e.RoomNID, &e.EventID, &e.Type, &sk, &e.Depth, &e.OriginServerTS, &e.SnapshotNID, &e.Status, &e.RedactedBy, &js); err != nil {
		return nil, err
	}
	if sk.Valid {
		e.StateKey = &sk.String
	}
	e.JSON = []byte(js)
	return &e, nil
}

func (d *DB) queryEvents(ctx context.Context, q storage.Querier, where string, args ...any) ([]*Event, error) {
	return d.queryEventCols(ctx, q, eventCols, where, args...)
}

// queryEventCols is queryEvents reading cols (eventCols, or the same
// columns with some read as constants).
func (d *DB) queryEventCols(ctx context.Context, q storage.Querier, cols, where string, args ...any) ([]*Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+cols+` FROM roomserver_events WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventsByID returns the stored events among ids (any order).
func (d *DB) EventsByID(ctx context.Context, q storage.Querier, ids []string) ([]*Event, error) {
	return inChunks(ids, func(in string, args []any) ([]*Event, error) {
		return d.queryEvents(ctx, q, `event_id IN (`+in+`)`, args...)
	})
}

// EventHeadsByID is EventsByID without the events' JSON: what placing
// them in state needs (a joined room's whole state, read without
// copying and parsing every event).
func (d *DB) EventHeadsByID(ctx context.Context, q storage.Querier, ids []string) ([]*Event, error) {
	return inChunks(ids, func(in string, args []any) ([]*Event, error) {
		evs, err := d.queryEventCols(ctx, q, headCols, `event_id IN (`+in+`)`, args...)
		for _, e := range evs {
			e.JSON = nil
		}
		return evs, err
	})
}

// headCols are eventCols with the JSON left out.
const headCols = `event_nid, room_nid, event_id, event_type, state_key, depth, origin_server_ts, snapshot_nid, status, redacted_by, ''`

// EventsByNID returns the stored events among nids (any order).
func (d *DB) EventsByNID(ctx context.Context, q storage.Querier, nids []int64) ([]*Event, error) {
	return inChunks(nids, func(in string, args []any) ([]*Event, error) {
		return d.queryEvents(ctx, q, `event_nid IN (`+in+`)`, args...)
	})
}

// inChunks runs query for keys 500 at a time (bind parameters of one
// statement), with the IN list and its arguments, and joins the results.
func inChunks[K cmp.Ordered](keys []K, query func(in string, args []any) ([]*Event, error)) ([]*Event, error) {
	var out []*Event
	err := eachChunk(keys, 500, func(chunk []K) error {
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		evs, err := query(storage.InList(1, len(chunk)), args)
		out = append(out, evs...)
		return err
	})
	return out, err
}

// eachChunk calls fn with keys chunkMax at a time. Keys of several chunks
// are sorted first, so each chunk reads one range of the index: in the
// order given (a joined room's state), every chunk read pages across the
// whole index.
func eachChunk[K cmp.Ordered](keys []K, chunkMax int, fn func(chunk []K) error) error {
	if len(keys) > chunkMax {
		keys = slices.Sorted(slices.Values(keys))
	}
	for start := 0; start < len(keys); start += chunkMax {
		if err := fn(keys[start:min(start+chunkMax, len(keys))]); err != nil {
			return err
		}
	}
	return nil
}

// EventByID returns nil, nil when unknown.
func (d *DB) EventByID(ctx context.Context, q storage.Querier, id string) (*Event, error) {
	evs, err := d.queryEvents(ctx, q, `event_id = $1`, id)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	return evs[0], nil
}

// RoomEvents lists every event of a room that is part of the DAG (not
// outliers or rejected), for DAG checks.
func (d *DB) RoomEvents(ctx context.Context, roomNID int64) ([]*Event, error) {
	return d.queryEvents(ctx, d, `room_nid = $1 AND status IN (0, 1) ORDER BY event_nid`, roomNID)
}

// EventByTimestamp finds the accepted event closest to ts in direction
// forward (at or after) or backward (at or before).
func (d *DB) EventByTimestamp(ctx context.Context, roomNID, ts int64, forward bool) (string, int64, error) {
	q := `SELECT event_id, origin_server_ts FROM roomserver_events WHERE room_nid = $1 AND status = 0 AND origin_server_ts <= $2
		ORDER BY origin_server_ts DESC, event_nid DESC LIMIT 1`
	if forward {
		q = `SELECT event_id, origin_server_ts FROM roomserver_events WHERE room_nid = $1 AND status = 0 AND origin_server_ts >= $2
		ORDER BY origin_server_ts ASC, event_nid ASC LIMIT 1`
	}
	var id string
	var got int64
	err := d.QueryRowContext(ctx, q, roomNID, ts).Scan(&id, &got)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return id, got, err
}

// RoomEventsAfter pages through a room's DAG events (not outliers or
// rejected) in storage order: those with an NID above after, at most
// limit.
func (d *DB) RoomEventsAfter(ctx context.Context, roomNID, after int64, limit int) ([]*Event, error) {
	return d.queryEvents(ctx, d, `room_nid = $1 AND status IN (0, 1) AND event_nid > $2 ORDER BY event_nid LIMIT $3`, roomNID, after, limit)
}

// EventNIDsByID returns the NIDs of the stored events among ids (the
// rest are not stored), without reading the events themselves (IN list:
// storage.DB.InLookup).
func (d *DB) EventNIDsByID(ctx context.Context, q storage.Querier, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	err := eachChunk(ids, 256, func(chunk []string) error { return d.eventNIDs(ctx, q, chunk, out) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *DB) eventNIDs(ctx context.Context, q storage.Querier, ids []string, out map[string]int64) error {
	in, args := d.InLookup(ids, 8)
	rows, err := q.QueryContext(ctx, `SELECT event_id, event_nid FROM roomserver_events WHERE event_id IN (`+in+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var nid int64
		if err := rows.Scan(&id, &nid); err != nil {
			return err
		}
		out[id] = nid
	}
	return rows.Err()
}
