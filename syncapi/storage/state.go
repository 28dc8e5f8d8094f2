package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// MembershipChange is one membership taking effect for a user in a room.
type MembershipChange struct {
	RoomID, UserID, Membership, EventID string
	Pos                                 types.StreamPosition
}

// ApplyStateDelta updates current state: removes first, then adds (each
// a stored event), all recorded as changed at pos. Member events also
// append to the membership history, and joins and join rules update the
// user directory. It returns those membership changes.
//
// Rows are written in multi-row statements: a joined room's state is tens
// of thousands of events, three or four statements each one at a time.
func (d *DB) ApplyStateDelta(ctx context.Context, tx *storage.Tx, roomID string, pos types.StreamPosition, removes []string, adds []*types.Event) ([]MembershipChange, error) {
	if err := inChunksOf(removes, 500, func(ids []string) error {
		args := []any{roomID}
		for _, id := range ids {
			args = append(args, id)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM syncapi_current_state WHERE room_id = $1 AND event_id IN (`+storage.InList(2, len(ids))+`)`, args...)
		return err
	}); err != nil {
		return nil, err
	}
	// A later add for the same slot (or user) wins, as it did applied one
	// by one; one statement may not touch a row twice.
	var state, members, joined []*types.Event
	slot, member, joinedAt := map[[2]string]int{}, map[string]int{}, map[string]int{}
	var changes []MembershipChange
	for _, ev := range adds {
		if ev.StateKey == nil {
			continue
		}
		state = lastFor(state, slot, [2]string{ev.Type, *ev.StateKey}, ev)
		if ev.Type == spec.MRoomMember {
			members = lastFor(members, member, *ev.StateKey, ev)
			if ev.Membership == "join" {
				joined = lastFor(joined, joinedAt, *ev.StateKey, ev)
			}
			changes = append(changes, MembershipChange{RoomID: roomID, UserID: *ev.StateKey, Membership: ev.Membership, EventID: ev.EventID, Pos: pos})
		} else if err := updateDirectory(ctx, tx, roomID, ev); err != nil {
			return nil, err
		}
	}
	// In key order, each table's and index's rows go in next to each
	// other: in the order a state response gives them, every row of a
	// big state lands on another B-tree page.
	slices.SortFunc(state, byTypeAndStateKey)
	slices.SortFunc(members, byTypeAndStateKey)
	slices.SortFunc(joined, byTypeAndStateKey)
	if err := inChunksOf(state, 100, func(evs []*types.Event) error {
		args := make([]any, 0, len(evs)*7)
		for _, ev := range evs {
			args = append(args, roomID, ev.Type, *ev.StateKey, ev.EventID, int64(ev.Pos), int64(pos), ev.Membership)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_current_state (room_id, type, state_key, event_id, event_pos, added_at, membership)
			VALUES `+storage.Rows(7, len(evs))+`
			ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id, event_pos = excluded.event_pos,
				added_at = excluded.added_at, membership = excluded.membership`, args...)
		return err
	}); err != nil {
		return nil, err
	}
	users := make([]string, 0, len(members))
	for _, ev := range members {
		users = append(users, *ev.StateKey)
	}
	// Noted before the commit: the unread log then never misses one.
	d.unreadLog.memberChanged(users, pos)
	if err := inChunksOf(members, 100, func(evs []*types.Event) error {
		args := make([]any, 0, len(evs)*5)
		for _, ev := range evs {
			args = append(args, *ev.StateKey, roomID, int64(pos), ev.Membership, ev.EventID)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_memberships (user_id, room_id, pos, membership, event_id)
			VALUES `+storage.Rows(5, len(evs))+` ON CONFLICT (user_id, room_id, pos) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id`, args...)
		return err
	}); err != nil {
		return nil, err
	}
	if err := updateDirectoryJoins(ctx, tx, joined); err != nil {
		return nil, err
	}
	return changes, nil
}

// byTypeAndStateKey orders state events by their slot (the key of
// syncapi_current_state; for member events the user, that of the
// membership and directory tables).
func byTypeAndStateKey(a, b *types.Event) int {
	return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(*a.StateKey, *b.StateKey))
}

// lastFor puts ev in list as the one event for key: in place of an
// earlier one (index in at), else appended.
func lastFor[K comparable](list []*types.Event, at map[K]int, key K, ev *types.Event) []*types.Event {
	if i, ok := at[key]; ok {
		list[i] = ev
		return list
	}
	at[key] = len(list)
	return append(list, ev)
}

// inChunksOf calls f on items n at a time (none: not at all).
func inChunksOf[T any](items []T, n int, f func([]T) error) error {
	for len(items) > 0 {
		k := min(len(items), n)
		if err := f(items[:k]); err != nil {
			return err
		}
		items = items[k:]
	}
	return nil
}

// CurrentState returns the room's current state events.
func (d *DB) CurrentState(ctx context.Context, q storage.Querier, roomID string) ([]*types.Event, error) {
	if q == nil {
		q = d.DB
	}
	return scanEvents(q.QueryContext(ctx, `SELECT `+prefixed("e.")+` FROM syncapi_current_state s
		JOIN syncapi_events e ON e.event_id = s.event_id WHERE s.room_id = $1`, roomID))
}

// StateChangedBetween returns current state events of roomID that became
// current in (from, to).
func (d *DB) StateChangedBetween(ctx context.Context, roomID string, from, to types.StreamPosition) ([]*types.Event, error) {
	return scanEvents(d.DB.QueryContext(ctx, `SELECT `+prefixed("e.")+` FROM syncapi_current_state s
		JOIN syncapi_events e ON e.event_id = s.event_id WHERE s.room_id = $1 AND s.added_at > $2 AND s.added_at < $3`,
		roomID, int64(from), int64(to)))
}

// StateEvent returns one current state event, or nil. q may be the DB or
// a Tx (to see the transaction's own writes).
func (d *DB) StateEvent(ctx context.Context, q storage.Querier, roomID, evType, stateKey string) (*types.Event, error) {
	ev, err := scanEvent(q.QueryRowContext(ctx, `SELECT `+prefixed("e.")+` FROM syncapi_current_state s
		JOIN syncapi_events e ON e.event_id = s.event_id WHERE s.room_id = $1 AND s.type = $2 AND s.state_key = $3`,
		roomID, evType, stateKey))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return ev, err
}

// RoomMembers returns user IDs with membership in roomID now.
func (d *DB) RoomMembers(ctx context.Context, q storage.Querier, roomID, membership string) ([]string, error) {
	if q == nil {
		q = d.DB
	}
	return storage.Strings(q.QueryContext(ctx, `SELECT state_key FROM syncapi_current_state WHERE room_id = $1 AND type = 'm.room.member' AND membership = $2`, roomID, membership))
}

// AllJoinedMembers maps every room to its joined users (notifier start-up).
func (d *DB) AllJoinedMembers(ctx context.Context) (map[string][]string, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, state_key FROM syncapi_current_state WHERE type = 'm.room.member' AND membership = 'join'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var r, u string
		if err := rows.Scan(&r, &u); err != nil {
			return nil, err
		}
		out[r] = append(out[r], u)
	}
	return out, rows.Err()
}

// MembershipHistory returns the user's membership changes in roomID, oldest first.
func (d *DB) MembershipHistory(ctx context.Context, userID, roomID string) ([]MembershipChange, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, membership, event_id, pos FROM syncapi_memberships
		WHERE user_id = $1 AND room_id = $2 ORDER BY pos ASC`, userID, roomID)
	return scanMemberships(rows, err, userID)
}

func scanMemberships(rows *sql.Rows, err error, userID string) ([]MembershipChange, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MembershipChange
	for rows.Next() {
		m := MembershipChange{UserID: userID}
		if err := rows.Scan(&m.RoomID, &m.Membership, &m.EventID, &m.Pos); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// prefixed qualifies eventColumns with a table alias. Queries call it
// every time they run, so each alias's list is built once.
func prefixed(alias string) string {
	if v, ok := prefixedCols.Load(alias); ok {
		return v.(string)
	}
	out := ""
	for i, c := range splitCols(eventColumns) {
		if i > 0 {
			out += ", "
		}
		out += alias + c
	}
	prefixedCols.Store(alias, out)
	return out
}

var prefixedCols sync.Map // alias -> column list

func splitCols(s string) []string {
	var out []string
	cur := ""
	for _, r := range s {
		switch r {
		case ',':
			out = append(out, cur)
			cur = ""
		case ' ', '\n', '\t':
		default:
			cur += string(r)
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
