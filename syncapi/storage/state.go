package storage

import (
	"context"
	"database/sql"
	"errors"
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
func (d *DB) ApplyStateDelta(ctx context.Context, tx *storage.Tx, roomID string, pos types.StreamPosition, removes []string, adds []*types.Event) ([]MembershipChange, error) {
	for _, id := range removes {
		if _, err := tx.ExecContext(ctx, `DELETE FROM syncapi_current_state WHERE room_id = $1 AND event_id = $2`, roomID, id); err != nil {
			return nil, err
		}
	}
	var changes []MembershipChange
	for _, ev := range adds {
		if ev.StateKey == nil {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_current_state (room_id, type, state_key, event_id, event_pos, added_at, membership)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id, event_pos = excluded.event_pos,
				added_at = excluded.added_at, membership = excluded.membership`,
			roomID, ev.Type, *ev.StateKey, ev.EventID, int64(ev.Pos), int64(pos), ev.Membership)
		if err != nil {
			return nil, err
		}
		if err := updateDirectory(ctx, tx, roomID, ev); err != nil {
			return nil, err
		}
		if ev.Type == spec.MRoomMember {
			_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_memberships (user_id, room_id, pos, membership, event_id)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, room_id, pos) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id`,
				*ev.StateKey, roomID, int64(pos), ev.Membership, ev.EventID)
			if err != nil {
				return nil, err
			}
			changes = append(changes, MembershipChange{RoomID: roomID, UserID: *ev.StateKey, Membership: ev.Membership, EventID: ev.EventID, Pos: pos})
		}
	}
	return changes, nil
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

// MembershipsAt returns the user's latest membership in every room it has
// ever had one in, as of position at.
func (d *DB) MembershipsAt(ctx context.Context, userID string, at types.StreamPosition) ([]MembershipChange, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT m.room_id, m.membership, m.event_id, m.pos FROM syncapi_memberships m
		WHERE m.user_id = $1 AND m.pos = (SELECT MAX(pos) FROM syncapi_memberships
			WHERE user_id = $1 AND room_id = m.room_id AND pos <= $2)`, userID, int64(at))
	return scanMemberships(rows, err, userID)
}

// MembershipChangesBetween returns the user's membership changes in (from, to], oldest first.
func (d *DB) MembershipChangesBetween(ctx context.Context, userID string, from, to types.StreamPosition) ([]MembershipChange, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, membership, event_id, pos FROM syncapi_memberships
		WHERE user_id = $1 AND pos > $2 AND pos <= $3 ORDER BY pos ASC`, userID, int64(from), int64(to))
	return scanMemberships(rows, err, userID)
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
