package storage

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/matrix-org/gomatrixserverlib"

	"github.com/axon-hs/axon/internal/storage"
)

// Tuple is a state key: (event type, state key).
type Tuple = gomatrixserverlib.StateKeyTuple

// StateMap maps state keys to event NIDs.
type StateMap map[Tuple]int64

// Get is the event NID for t (0 when unset).
func (m StateMap) Get(t Tuple) int64 { return m[t] }

func compareTuples(a, b Tuple) int {
	return cmp.Or(strings.Compare(a.EventType, b.EventType), strings.Compare(a.StateKey, b.StateKey))
}

// InsertSnapshot writes a snapshot. With parent 0, entries is the full
// state; otherwise it is the delta on parent (an entry with event NID 0
// removes the key). chainLen is the number of deltas since the last full
// snapshot.
func (d *DB) InsertSnapshot(ctx context.Context, tx *storage.Tx, roomNID, parent int64, chainLen int, entries StateMap) (int64, error) {
	var nid int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO roomserver_state_snapshots (room_nid, parent_nid, chain_len) VALUES ($1, $2, $3) RETURNING snapshot_nid`,
		roomNID, parent, chainLen).Scan(&nid); err != nil {
		return 0, err
	}
	// Multi-row inserts: far fewer round trips for full snapshots.
	const perStmt = 200
	batch := make([]any, 0, perStmt*4)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		q := "INSERT INTO roomserver_state_entries (snapshot_nid, event_type, state_key, event_nid) VALUES " + storage.Rows(4, len(batch)/4)
		_, err := tx.ExecContext(ctx, q, batch...)
		batch = batch[:0]
		return err
	}
	// In key order: rows of a big snapshot then go in next to each other
	// (in map order, every row of a 20,000-entry snapshot touched
	// another page of the key's B-tree).
	for _, t := range slices.SortedFunc(maps.Keys(entries), compareTuples) {
		batch = append(batch, nid, t.EventType, t.StateKey, entries[t])
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return nid, nil
}

// LoadSnapshot materialises a snapshot by walking its delta chain back to
// the full snapshot it starts from, in one query. It also returns the
// snapshot's chain length.
func (d *DB) LoadSnapshot(ctx context.Context, q storage.Querier, snapshotNID int64) (StateMap, int, error) {
	if snapshotNID == 0 {
		return StateMap{}, 0, nil
	}
	rows, err := q.QueryContext(ctx, `WITH RECURSIVE chain(nid, parent, pos) AS (
			SELECT snapshot_nid, parent_nid, 0 FROM roomserver_state_snapshots WHERE snapshot_nid = $1
			UNION ALL
			SELECT s.snapshot_nid, s.parent_nid, chain.pos + 1 FROM roomserver_state_snapshots s JOIN chain ON s.snapshot_nid = chain.parent
		)
		SELECT chain.pos, e.event_type, e.state_key, e.event_nid
		FROM chain JOIN roomserver_state_entries e ON e.snapshot_nid = chain.nid
		ORDER BY chain.pos DESC`, snapshotNID)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := StateMap{}
	chainLen := 0
	for rows.Next() {
		var pos int
		var t Tuple
		var evNID int64
		if err := rows.Scan(&pos, &t.EventType, &t.StateKey, &evNID); err != nil {
			return nil, 0, err
		}
		chainLen = max(chainLen, pos)
		if evNID == 0 {
			delete(out, t)
		} else {
			out[t] = evNID
		}
	}
	return out, chainLen, rows.Err()
}
