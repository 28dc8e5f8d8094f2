package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Reads for many rooms at once. An initial /sync needs the same few rows
// of every room the user is in; on PostgreSQL each query is a round trip,
// so a user in 1,000 rooms paid thousands of them. These answer for a
// whole list of rooms in one query per chunk of rooms.

// manyRoomsChunk bounds the rooms (bind parameters) of one statement.
var manyRoomsChunk = 500

// RecentRoomEvents returns, for each of roomIDs, its newest timeline
// events with pos <= to, newest first, at most limit per room: what
// RoomEvents(ctx, room, 0, to, limit, true) returns, for many rooms. Rooms
// without such events are absent.
func (d *DB) RecentRoomEvents(ctx context.Context, roomIDs []string, to types.StreamPosition, limit int) (map[string][]*types.Event, error) {
	out := make(map[string][]*types.Event, len(roomIDs))
	if d.DB.Dialect != storage.Postgres {
		// SQLite runs in the process: a query per room costs no round trip
		// and uses the (room_id, pos) index directly.
		for _, r := range roomIDs {
			evs, err := d.RoomEvents(ctx, r, 0, to, limit, true)
			if err != nil {
				return nil, err
			}
			if len(evs) > 0 {
				out[r] = evs
			}
		}
		return out, nil
	}
	for len(roomIDs) > 0 {
		n := min(len(roomIDs), manyRoomsChunk)
		args := []any{int64(to), limit}
		for i := range n {
			args = append(args, roomIDs[i])
		}
		// One index range scan per room, like RoomEvents, joined laterally.
		evs, err := scanEvents(d.DB.QueryContext(ctx, `SELECT `+prefixed("e.")+` FROM (VALUES `+valuesList(3, n)+`) AS r(id)
			CROSS JOIN LATERAL (SELECT `+eventColumns+` FROM syncapi_events
				WHERE room_id = r.id AND in_timeline AND pos <= $1 ORDER BY pos DESC LIMIT $2) e
			ORDER BY e.room_id, e.pos DESC`, args...))
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			out[ev.RoomID] = append(out[ev.RoomID], ev)
		}
		roomIDs = roomIDs[n:]
	}
	return out, nil
}

// valuesList is "($first), ($first+1), ..." with count rows: a VALUES
// list of bind parameters to join laterally against.
func valuesList(first, count int) string {
	var b strings.Builder
	for i := range count {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d)", first+i)
	}
	return b.String()
}

// CurrentStateOfRooms returns the current state events of each of roomIDs.
func (d *DB) CurrentStateOfRooms(ctx context.Context, roomIDs []string) (map[string][]*types.Event, error) {
	out := make(map[string][]*types.Event, len(roomIDs))
	for len(roomIDs) > 0 {
		n := min(len(roomIDs), manyRoomsChunk)
		args := make([]any, n)
		for i := range n {
			args[i] = roomIDs[i]
		}
		evs, err := scanEvents(d.DB.QueryContext(ctx, `SELECT `+prefixed("e.")+` FROM syncapi_current_state s
			JOIN syncapi_events e ON e.event_id = s.event_id WHERE s.room_id IN (`+storage.InList(1, n)+`)`, args...))
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			out[ev.RoomID] = append(out[ev.RoomID], ev)
		}
		roomIDs = roomIDs[n:]
	}
	return out, nil
}

// MembershipHistories returns the user's membership changes in every
// room, oldest first per room: MembershipHistory for all rooms at once.
func (d *DB) MembershipHistories(ctx context.Context, userID string) (map[string][]MembershipChange, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, membership, event_id, pos FROM syncapi_memberships
		WHERE user_id = $1 ORDER BY pos ASC`, userID)
	all, err := scanMemberships(rows, err, userID)
	if err != nil {
		return nil, err
	}
	out := map[string][]MembershipChange{}
	for _, m := range all {
		out[m.RoomID] = append(out[m.RoomID], m)
	}
	return out, nil
}
