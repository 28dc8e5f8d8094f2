package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

const eventColumns = `pos, event_id, room_id, type, sender, state_key, origin_ts, json, room_version, txn_device, txn_id,
	history_visibility, membership, relates_to, rel_type, thread_id, contains_url, redacted, history_gap`

func scanEvent(row interface{ Scan(...any) error }) (*types.Event, error) {
	var ev types.Event
	var sk sql.NullString
	var js string
	if err := row.Scan(&ev.Pos, &ev.EventID, &ev.RoomID, &ev.Type, &ev.Sender, &sk, &ev.OriginTS, &js, &ev.RoomVersion,
		&ev.TxnDevice, &ev.TxnID, &ev.HistoryVisibility, &ev.Membership, &ev.RelatesTo, &ev.RelType,
		&ev.ThreadID, &ev.ContainsURL, &ev.Redacted, &ev.HistoryGap); err != nil {
		return nil, err
	}
	if sk.Valid {
		s := sk.String
		ev.StateKey = &s
	}
	ev.JSON = []byte(js)
	return &ev, nil
}

func scanEvents(rows *sql.Rows, err error) ([]*types.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*types.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// InsertEvent stores ev at a new PDU position (set on ev). It returns
// false, without error, if the event is already stored.
func (d *DB) InsertEvent(ctx context.Context, tx *storage.Tx, ev *types.Event, inTimeline bool) (bool, error) {
	return d.InsertEventFrom(ctx, tx, nil, ev, inTimeline)
}

// InsertEventFrom is InsertEvent taking the position from p, positions
// reserved earlier in tx (nil: from the counter).
func (d *DB) InsertEventFrom(ctx context.Context, tx *storage.Tx, p *Positions, ev *types.Event, inTimeline bool) (bool, error) {
	// Insert first and look the event up only if it was there already
	// (a redelivery, rare): one statement fewer per event. The position
	// taken for a duplicate is left unused, which tokens do not mind.
	var inserted bool
	var err error
	if tx.Dialect() == storage.Postgres && !p.has(CounterPDU) {
		inserted, err = insertEventNextPosPostgres(ctx, tx, ev, inTimeline)
	} else {
		var pos types.StreamPosition
		if pos, err = d.nextPosFrom(ctx, tx, p, CounterPDU); err != nil {
			return false, err
		}
		ev.Pos = pos
		inserted, err = d.insertEventAt(ctx, tx, ev, inTimeline)
	}
	if err != nil || inserted {
		return inserted, err
	}
	var existing int64
	if err := tx.QueryRowContext(ctx, `SELECT pos FROM syncapi_events WHERE event_id = $1`, ev.EventID).Scan(&existing); err != nil {
		return false, err
	}
	ev.Pos = types.StreamPosition(existing)
	return false, nil
}

// InsertStateEventsFrom stores state events outside the timeline (those
// a state change names, a joined room's whole state) at new positions
// taken from p, then from the counter, in multi-row statements. Events
// stored already keep their position (set on them).
func (d *DB) InsertStateEventsFrom(ctx context.Context, tx *storage.Tx, p *Positions, evs []*types.Event) error {
	if len(evs) == 0 {
		return nil
	}
	// By event ID, before positions are given: the rows then go into the
	// event ID index in its order as well as into the position's (in the
	// order a state response gives them, each of a big state's rows
	// landed on another page of that index).
	evs = slices.SortedFunc(slices.Values(evs), func(a, b *types.Event) int { return strings.Compare(a.EventID, b.EventID) })
	if err := d.positionsFor(ctx, tx, p, evs); err != nil {
		return err
	}
	var existing []string
	err := inChunksOf(evs, 50, func(evs []*types.Event) error {
		args := make([]any, 0, len(evs)*20)
		for _, ev := range evs {
			args = append(args, eventArgs(ev, false)...)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO syncapi_events (`+eventColumns+`, in_timeline)
			VALUES `+storage.Rows(20, len(evs))+` ON CONFLICT (event_id) DO NOTHING RETURNING event_id`, args...)
		if err != nil {
			return fmt.Errorf("insert %d events: %w", len(evs), err)
		}
		inserted, err := storage.Strings(rows, nil)
		if err != nil {
			return err
		}
		done := make(map[string]bool, len(inserted))
		for _, id := range inserted {
			done[id] = true
		}
		for _, ev := range evs {
			if !done[ev.EventID] {
				existing = append(existing, ev.EventID)
			} else if err := indexEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(existing) == 0 {
		return err
	}
	return d.keepStoredPositions(ctx, tx, existing, evs)
}

// positionsFor gives each of evs a new position: from p while it lasts,
// the rest reserved from the counter in one statement (later than all of
// p's, so positions keep their order).
func (d *DB) positionsFor(ctx context.Context, tx *storage.Tx, p *Positions, evs []*types.Event) error {
	i := 0
	for ; i < len(evs) && p != nil && p.counter == CounterPDU && p.next <= p.end; i++ {
		evs[i].Pos = p.next
		p.next++
	}
	if i == len(evs) {
		return nil
	}
	more, err := d.ReservePositions(ctx, tx, CounterPDU, len(evs)-i)
	if err != nil {
		return err
	}
	for ; i < len(evs); i++ {
		evs[i].Pos = more.next
		more.next++
	}
	return nil
}

// keepStoredPositions sets the stored position on those of evs whose IDs
// are among ids (events that were stored already).
func (d *DB) keepStoredPositions(ctx context.Context, tx *storage.Tx, ids []string, evs []*types.Event) error {
	stored, err := d.storedPositions(ctx, tx, ids)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		if pos, ok := stored[ev.EventID]; ok {
			ev.Pos = pos
		}
	}
	return nil
}

// eventArgs are ev's values for eventColumns and in_timeline.
func eventArgs(ev *types.Event, inTimeline bool) []any {
	var sk any
	if ev.StateKey != nil {
		sk = *ev.StateKey
	}
	return []any{int64(ev.Pos), ev.EventID, ev.RoomID, ev.Type, ev.Sender, sk, ev.OriginTS, storage.Text(ev.JSON), ev.RoomVersion, ev.TxnDevice, ev.TxnID,
		ev.HistoryVisibility, ev.Membership, ev.RelatesTo, ev.RelType, ev.ThreadID, ev.ContainsURL, ev.Redacted, ev.HistoryGap, inTimeline}
}

// insertEventAt writes (and indexes) ev at ev.Pos; false if an event with
// its ID is stored already.
func (d *DB) insertEventAt(ctx context.Context, tx *storage.Tx, ev *types.Event, inTimeline bool) (bool, error) {
	args := eventArgs(ev, inTimeline)
	if key, text := searchText(ev); key != "" && tx.Dialect() == storage.Postgres {
		return insertIndexedEventPostgres(ctx, tx, ev, args, key, text)
	}
	res, err := tx.ExecContext(ctx, insertEvent+` ON CONFLICT (event_id) DO NOTHING`, args...)
	if err != nil {
		return false, fmt.Errorf("insert event %s: %w", ev.EventID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	return true, indexEvent(ctx, tx, ev)
}

const insertEvent = `INSERT INTO syncapi_events (` + eventColumns + `, in_timeline)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)`

// insertIndexedEventPostgres stores a searchable event and its index
// row in one statement (one round trip, not two, per message).
func insertIndexedEventPostgres(ctx context.Context, tx *storage.Tx, ev *types.Event, args []any, key, text string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `WITH ev AS (`+insertEvent+` ON CONFLICT (event_id) DO NOTHING RETURNING pos),
		ix AS (INSERT INTO syncapi_search (pos, room_id, key, vec)
			SELECT pos, $21::text, $22::text, to_tsvector('simple', $23::text) FROM ev ON CONFLICT (pos) DO NOTHING)
		SELECT COUNT(*) FROM ev`, append(args, ev.RoomID, key, text)...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("insert event %s: %w", ev.EventID, err)
	}
	return n == 1, nil
}

// insertEventNextPos is insertEvent at the counter's next PDU position
// ($1 is the counter's name), and insertEventNextPosIndexed the same with
// the search index row ($21–$23: room, key, text); both answer the
// position taken and whether the event was inserted.
var (
	insertEventNextPos = `WITH p AS (INSERT INTO syncapi_counters (name, value) VALUES ($1, 1)
			ON CONFLICT (name) DO UPDATE SET value = syncapi_counters.value + 1 RETURNING value),
		ev AS (` + strings.Replace(insertEvent, "VALUES ($1,", "VALUES ((SELECT value FROM p),", 1) + ` ON CONFLICT (event_id) DO NOTHING RETURNING pos)`
	insertEventNextPosAnswer  = ` SELECT (SELECT value FROM p), (SELECT COUNT(*) FROM ev)`
	insertEventNextPosIndexed = insertEventNextPos + `,
		ix AS (INSERT INTO syncapi_search (pos, room_id, key, vec)
			SELECT pos, $21::text, $22::text, to_tsvector('simple', $23::text) FROM ev ON CONFLICT (pos) DO NOTHING)` + insertEventNextPosAnswer
)

// insertEventNextPosPostgres takes the event's position from the counter
// and stores (and indexes) it in one statement: one round trip, not two,
// per live event. The counter's row lock is taken as NextPos takes it.
func insertEventNextPosPostgres(ctx context.Context, tx *storage.Tx, ev *types.Event, inTimeline bool) (bool, error) {
	args := eventArgs(ev, inTimeline)
	args[0] = CounterPDU
	q := insertEventNextPos + insertEventNextPosAnswer
	if key, text := searchText(ev); key != "" {
		q = insertEventNextPosIndexed
		args = append(args, ev.RoomID, key, text)
	}
	var pos int64
	var n int
	// Often a consumer transaction's first statement: sent with its BEGIN.
	if err := tx.QueryRowScan(ctx, q, args, &pos, &n); err != nil {
		return false, fmt.Errorf("insert event %s: %w", ev.EventID, err)
	}
	ev.Pos = types.StreamPosition(pos)
	return n == 1, nil
}

// UpdateEventJSON replaces a stored event's JSON (after a redaction).
// A redacted event leaves the search index.
func (d *DB) UpdateEventJSON(ctx context.Context, tx *storage.Tx, eventID string, js []byte, redacted bool) error {
	if _, err := tx.ExecContext(ctx, `UPDATE syncapi_events SET json = $1, redacted = $2, contains_url = FALSE WHERE event_id = $3`, string(js), redacted, eventID); err != nil {
		return err
	}
	if redacted {
		return unindexEvent(ctx, tx, eventID)
	}
	return nil
}

// SetEventJSON replaces a stored event's JSON, nothing else (an unsigned
// field changed).
func (d *DB) SetEventJSON(ctx context.Context, tx *storage.Tx, eventID string, js []byte) error {
	_, err := tx.ExecContext(ctx, `UPDATE syncapi_events SET json = $1 WHERE event_id = $2`, string(js), eventID)
	return err
}

// NextInStateSlot returns the first state event stored after ev with its
// room, type and state key, or nil.
func (d *DB) NextInStateSlot(ctx context.Context, q storage.Querier, ev *types.Event) (*types.Event, error) {
	if ev.StateKey == nil {
		return nil, nil
	}
	next, err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM syncapi_events
		WHERE room_id = $1 AND type = $2 AND state_key = $3 AND pos > $4 ORDER BY pos LIMIT 1`,
		ev.RoomID, ev.Type, *ev.StateKey, int64(ev.Pos)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return next, err
}

// EventByID returns one stored event, or nil.
func (d *DB) EventByID(ctx context.Context, q storage.Querier, eventID string) (*types.Event, error) {
	if q == nil {
		q = d.DB
	}
	ev, err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM syncapi_events WHERE event_id = $1`, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return ev, err
}

// EventsByIDs returns the stored events among ids (any order).
func (d *DB) EventsByIDs(ctx context.Context, ids []string) ([]*types.Event, error) {
	var out []*types.Event
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i := range n {
			args[i] = ids[i]
		}
		evs, err := scanEvents(d.DB.QueryContext(ctx, `SELECT `+eventColumns+` FROM syncapi_events WHERE event_id IN (`+storage.InList(1, n)+`)`, args...))
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
		ids = ids[n:]
	}
	return out, nil
}

// RoomEvents returns timeline events of roomID with from < pos <= to,
// newest first when backwards, at most limit rows.
func (d *DB) RoomEvents(ctx context.Context, roomID string, from, to types.StreamPosition, limit int, backwards bool) ([]*types.Event, error) {
	order := "ASC"
	if backwards {
		order = "DESC"
	}
	return scanEvents(d.DB.QueryContext(ctx, `SELECT `+eventColumns+` FROM syncapi_events
		WHERE room_id = $1 AND in_timeline AND pos > $2 AND pos <= $3 ORDER BY pos `+order+` LIMIT $4`,
		roomID, int64(from), int64(to), limit))
}

// RoomsWithEvents lists rooms among roomIDs that have timeline events in (from, to].
func (d *DB) RoomsWithEvents(ctx context.Context, from, to types.StreamPosition) (map[string]bool, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT DISTINCT room_id FROM syncapi_events WHERE pos > $1 AND pos <= $2 AND in_timeline`, int64(from), int64(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out[r] = true
	}
	return out, rows.Err()
}

// RoomsChangedBetween lists the rooms with events stored at positions in
// (from, to], in the timeline or not (state a join brought).
func (d *DB) RoomsChangedBetween(ctx context.Context, from, to types.StreamPosition) ([]string, error) {
	return storage.Strings(d.DB.QueryContext(ctx, `SELECT DISTINCT room_id FROM syncapi_events WHERE pos > $1 AND pos <= $2`, int64(from), int64(to)))
}

// LatestRoomPositions returns the newest timeline position of each room
// in roomIDs, counting only events of evTypes when given (rooms without
// such events are absent).
func (d *DB) LatestRoomPositions(ctx context.Context, roomIDs []string, upTo types.StreamPosition, evTypes ...string) (map[string]types.StreamPosition, error) {
	out := map[string]types.StreamPosition{}
	for len(roomIDs) > 0 {
		n := min(len(roomIDs), 500)
		args := []any{int64(upTo)}
		for i := range n {
			args = append(args, roomIDs[i])
		}
		typeClause := ""
		if len(evTypes) > 0 {
			typeClause = ` AND type IN (` + storage.InList(len(args)+1, len(evTypes)) + `)`
			for _, t := range evTypes {
				args = append(args, t)
			}
		}
		rows, err := d.DB.QueryContext(ctx, `SELECT room_id, MAX(pos) FROM syncapi_events WHERE pos <= $1 AND in_timeline AND room_id IN (`+storage.InList(2, n)+`)`+typeClause+` GROUP BY room_id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r string
			var p int64
			if err := rows.Scan(&r, &p); err != nil {
				rows.Close()
				return nil, err
			}
			out[r] = types.StreamPosition(p)
		}
		rows.Close()
		roomIDs = roomIDs[n:]
	}
	return out, nil
}

// Relations returns events relating to eventID (optionally of relType and
// evType), in pos order, with from < pos <= to.
func (d *DB) Relations(ctx context.Context, eventID, relType, evType string, from, to types.StreamPosition, limit int, backwards bool) ([]*types.Event, error) {
	order := "ASC"
	if backwards {
		order = "DESC"
	}
	q := `SELECT ` + eventColumns + ` FROM syncapi_events WHERE relates_to = $1 AND relates_to <> '' AND pos > $2 AND pos <= $3`
	args := []any{eventID, int64(from), int64(to)}
	if relType != "" {
		args = append(args, relType)
		q += fmt.Sprintf(" AND rel_type = $%d", len(args))
	}
	if evType != "" {
		args = append(args, evType)
		q += fmt.Sprintf(" AND type = $%d", len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY pos %s LIMIT $%d", order, len(args))
	return scanEvents(d.DB.QueryContext(ctx, q, args...))
}

// RelationRow is one child of a relation, for bundled aggregations.
type RelationRow struct {
	Parent, EventID, RelType, Sender, Type string
	Pos                                    types.StreamPosition
	OriginTS                               int64
}

// RelationsOf returns every relation (child rows, pos ascending) pointing
// at one of parents with pos <= upTo, for m.relations aggregation.
func (d *DB) RelationsOf(ctx context.Context, parents []string, upTo types.StreamPosition) ([]RelationRow, error) {
	var out []RelationRow
	for len(parents) > 0 {
		n := min(len(parents), 500)
		args := make([]any, n)
		for i := range n {
			args[i] = parents[i]
		}
		// The position bound is applied here: "pos <= $1" in the query
		// lets a PostgreSQL planner without statistics (autovacuum off,
		// before the first ANALYZE) range-scan the primary key, i.e. every
		// event, instead of using the relates_to index.
		q := `SELECT relates_to, event_id, rel_type, sender, type, pos, origin_ts FROM syncapi_events
			WHERE relates_to IN (` + storage.InList(1, n) + `) AND relates_to <> '' AND redacted = FALSE ORDER BY pos ASC`
		rows, err := d.DB.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r RelationRow
			if err := rows.Scan(&r.Parent, &r.EventID, &r.RelType, &r.Sender, &r.Type, &r.Pos, &r.OriginTS); err != nil {
				rows.Close()
				return nil, err
			}
			if r.Pos <= upTo {
				out = append(out, r)
			}
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return nil, err
		}
		rows.Close()
		parents = parents[n:]
	}
	return out, nil
}

// ThreadRoot is a thread in a room with its latest reply position.
type ThreadRoot struct {
	RootID string
	Latest types.StreamPosition
}

// Threads lists the thread roots of roomID ordered by latest activity
// (newest first), with latest reply pos < before (0: no bound).
func (d *DB) Threads(ctx context.Context, roomID string, before types.StreamPosition, participant string, limit int) ([]ThreadRoot, error) {
	q := `SELECT thread_id, MAX(pos) AS latest FROM syncapi_events WHERE room_id = $1 AND thread_id <> ''`
	args := []any{roomID}
	if participant != "" {
		args = append(args, participant)
		q += fmt.Sprintf(` AND thread_id IN (SELECT thread_id FROM syncapi_events WHERE room_id = $1 AND thread_id <> '' AND sender = $%d
			UNION SELECT event_id FROM syncapi_events WHERE room_id = $1 AND sender = $%d)`, len(args), len(args))
	}
	q += ` GROUP BY thread_id`
	if before > 0 {
		args = append(args, int64(before))
		q += fmt.Sprintf(` HAVING MAX(pos) < $%d`, len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY latest DESC LIMIT $%d`, len(args))
	rows, err := d.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ThreadRoot
	for rows.Next() {
		var t ThreadRoot
		if err := rows.Scan(&t.RootID, &t.Latest); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
