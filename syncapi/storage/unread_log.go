package storage

import (
	"sync"

	"github.com/axon-hs/axon/syncapi/types"
)

// unreadLog is what this process, as the syncapi writer, committed of
// notification rows since it started logging: UnreadForRooms counts
// (from, upTo] from it instead of the two count queries when it covers
// that range. It is a cache of the tables, never the only truth: a
// process that did not write the rows (a replica, a writer that just
// took over, after a reset) does not cover the range and counts from
// the tables.
type unreadLog struct {
	mu sync.Mutex
	// on: covering (since, through]. Rows are logged after their commit
	// and before the notifier shows their position, so every row at or
	// below through is in the log (one consumer writes them, in order).
	on             bool
	since, through types.StreamPosition
	shared         map[string][]loggedShared // room -> rows by position
	own            map[string][]loggedOwn    // user -> rows by position
	rows           int                       // in shared and own together
	// memberAt is each user's last membership change, noted before the
	// commit (a rolled-back one only costs a query); memberFloor bounds
	// the changes forgotten when the map was emptied.
	memberAt    map[string]types.StreamPosition
	memberFloor types.StreamPosition
	// floor is, per room or user whose oldest rows were dropped, the
	// position of the last dropped row.
	floor map[string]types.StreamPosition
}

// loggedOwn is what counting needs of a user's own notification row.
type loggedOwn struct {
	room, thread        string
	pos                 types.StreamPosition
	highlight, suppress bool
}

type loggedShared struct {
	pos       types.StreamPosition
	thread    string
	sender    string
	highlight bool
}

// Bounds: rows kept per room or user, rooms and users kept, rows kept in
// all (~64 B each: a few MB whatever the server's size).
const (
	maxLoggedRows  = 256
	maxLoggedKeys  = 20_000
	maxLoggedTotal = 100_000
)

func newUnreadLog() *unreadLog {
	return &unreadLog{memberAt: map[string]types.StreamPosition{}}
}

// reset stops covering until the next logged event: rows may have been
// deleted, or written by another process.
func (l *unreadLog) reset() {
	l.mu.Lock()
	l.on, l.shared, l.own, l.floor, l.rows = false, nil, nil, nil, 0
	l.mu.Unlock()
}

// memberChanged notes users whose membership changes at pos.
func (l *unreadLog) memberChanged(users []string, pos types.StreamPosition) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.memberAt)+len(users) > maxLoggedKeys {
		for _, p := range l.memberAt {
			l.memberFloor = max(l.memberFloor, p)
		}
		l.memberAt = map[string]types.StreamPosition{}
	}
	for _, u := range users {
		l.memberAt[u] = max(l.memberAt[u], pos)
	}
}

// committed logs the rows written for the event at pos, after their
// commit; every row up to pos is then logged.
func (l *unreadLog) committed(pos types.StreamPosition, shared *SharedNotification, own []Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on || len(l.shared) > maxLoggedKeys || len(l.own) > maxLoggedKeys || l.rows > maxLoggedTotal {
		// Rows before pos may be missing: cover from pos on.
		l.on, l.since, l.rows = true, pos-1, 0
		l.shared, l.own, l.floor = map[string][]loggedShared{}, map[string][]loggedOwn{}, map[string]types.StreamPosition{}
	}
	l.through = max(l.through, pos)
	if shared != nil {
		rows := append(l.shared[shared.RoomID], loggedShared{pos: shared.EventPos, thread: shared.ThreadID, sender: shared.Sender, highlight: shared.Highlight})
		l.shared[shared.RoomID] = trimRows(l, shared.RoomID, rows, func(r loggedShared) types.StreamPosition { return r.pos })
	}
	for _, n := range own {
		row := loggedOwn{room: n.RoomID, thread: n.ThreadID, pos: n.EventPos, highlight: n.Highlight, suppress: n.Suppress}
		l.own[n.UserID] = trimRows(l, n.UserID, append(l.own[n.UserID], row), func(r loggedOwn) types.StreamPosition { return r.pos })
	}
}

// trimRows drops the oldest rows of key (a room or user ID) past
// maxLoggedRows, noting the floor.
func trimRows[T any](l *unreadLog, key string, rows []T, pos func(T) types.StreamPosition) []T {
	l.rows++ // the row just appended
	if len(rows) <= maxLoggedRows {
		return rows
	}
	drop := len(rows) - maxLoggedRows/2
	l.rows -= drop
	l.floor[key] = pos(rows[drop-1])
	return append([]T(nil), rows[drop:]...)
}

// count adds to all the user's notifications in (from, upTo] after the
// read receipts read, as the count queries would, and reports whether
// the log covers that range for the user. joined is the user's joined
// rooms at upTo: with no membership change in the range, the user was
// joined to exactly those just before each event in it.
func (l *unreadLog) count(userID string, joined []string, from, upTo types.StreamPosition, read map[[2]string]types.StreamPosition, all unreadSet) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.on || from < l.since || upTo > l.through || from < l.memberFloor || l.memberAt[userID] > from || l.floor[userID] > from {
		return false
	}
	for _, room := range joined {
		if l.floor[room] > from {
			return false
		}
	}
	type at struct {
		room string
		pos  types.StreamPosition
	}
	var ownAt map[at]bool // the user's own rows replace the shared ones
	rows := l.own[userID]
	for i := len(rows) - 1; i >= 0 && rows[i].pos > from; i-- {
		n := rows[i]
		if n.pos > upTo {
			continue
		}
		if ownAt == nil {
			ownAt = map[at]bool{}
		}
		ownAt[at{n.room, n.pos}] = true
		if !n.suppress && unreadAfter(read, n.room, n.thread, n.pos) {
			all.add(n.room, n.thread, n.highlight)
		}
	}
	for _, room := range joined {
		rows := l.shared[room]
		for i := len(rows) - 1; i >= 0 && rows[i].pos > from; i-- {
			c := rows[i]
			if c.pos > upTo || c.sender == userID || ownAt[at{room, c.pos}] || !unreadAfter(read, room, c.thread, c.pos) {
				continue
			}
			all.add(room, c.thread, c.highlight)
		}
	}
	return true
}

// EventNotifications is the notification rows written for one event.
type EventNotifications struct {
	Shared *SharedNotification
	Rows   []Notification
}

// NotificationsCommitted logs the rows written for the event at pos
// (none: nothing notified) after their commit and before /sync can see
// pos. Only the syncapi writer calls it, for every new event in order.
func (d *DB) NotificationsCommitted(pos types.StreamPosition, w EventNotifications) {
	d.unreadLog.committed(pos, w.Shared, w.Rows)
}

// StartUnreadLog forgets the log when this process starts writing: rows
// since it last wrote may come from another writer.
func (d *DB) StartUnreadLog() { d.unreadLog.reset() }
