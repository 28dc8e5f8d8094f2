package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"sort"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Notification is an event that push rules said notifies a user.
type Notification struct {
	ID        int64
	UserID    string
	RoomID    string
	EventID   string
	EventPos  types.StreamPosition
	ThreadID  string
	Highlight bool
	// Suppress marks a member excepted from the event's shared outcome
	// (SharedNotification) who gets no notification: a muted room,
	// other rules. Zero value: an ordinary notification.
	Suppress bool
	Actions  json.RawMessage
	TS       int64
}

// InsertNotification records n.
func (d *DB) InsertNotification(ctx context.Context, tx *storage.Tx, n Notification) error {
	return d.InsertNotifications(ctx, tx, []Notification{n})
}

// notificationBatch is how many rows one INSERT carries (9 parameters
// each, far below either engine's parameter limit).
const notificationBatch = 100

// InsertNotifications records per-user rows (exceptions to an event's
// shared outcome, or every notified user when there is none) with one
// multi-row INSERT per batch.
func (d *DB) InsertNotifications(ctx context.Context, tx *storage.Tx, ns []Notification) error {
	for len(ns) > 0 {
		n := min(len(ns), notificationBatch)
		var b strings.Builder
		b.WriteString(`INSERT INTO syncapi_notifications (user_id, room_id, event_id, event_pos, thread_id, highlight, notify, actions, ts) VALUES `)
		args := make([]any, 0, n*9)
		for i, x := range ns[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(" + storage.InList(len(args)+1, 9) + ")")
			args = append(args, x.UserID, x.RoomID, x.EventID, int64(x.EventPos), x.ThreadID, x.Highlight, !x.Suppress, string(x.Actions), x.TS)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		ns = ns[n:]
	}
	return nil
}

// SharedNotification is an event's push outcome common to its room's
// joined members: stored once instead of a row per member, it applies to
// every user whose membership before the event was join, except the
// sender and users with their own row in syncapi_notifications.
type SharedNotification struct {
	RoomID    string
	EventID   string
	EventPos  types.StreamPosition
	ThreadID  string
	Sender    string
	Highlight bool
	Actions   json.RawMessage
	TS        int64
}

// InsertSharedNotification records n.
func (d *DB) InsertSharedNotification(ctx context.Context, tx *storage.Tx, n SharedNotification) error {
	return insertSharedNotifications(ctx, tx, []SharedNotification{n})
}

// InsertSharedNotifications records ns now.
func (d *DB) InsertSharedNotifications(ctx context.Context, tx *storage.Tx, ns []SharedNotification) error {
	return insertSharedNotifications(ctx, tx, ns)
}

// InsertSharedNotificationsAtCommit records ns with tx's commit
// (storage.Tx.ExecAtCommit: on PostgreSQL no round trip of its own), for
// a caller whose transaction reads and changes no notification after.
func (d *DB) InsertSharedNotificationsAtCommit(ctx context.Context, tx *storage.Tx, ns []SharedNotification) error {
	return writeSharedNotifications(ctx, ns, tx.ExecAtCommit)
}

// insertSharedNotifications records ns by multi-row INSERTs (storage.Runs).
func insertSharedNotifications(ctx context.Context, tx *storage.Tx, ns []SharedNotification) error {
	return writeSharedNotifications(ctx, ns, func(ctx context.Context, query string, args ...any) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}

func writeSharedNotifications(ctx context.Context, ns []SharedNotification, exec func(ctx context.Context, query string, args ...any) error) error {
	return storage.Runs(len(ns), 32, func(lo, hi int) error {
		args := make([]any, 0, (hi-lo)*8)
		for _, n := range ns[lo:hi] {
			args = append(args, n.RoomID, int64(n.EventPos), n.EventID, n.ThreadID, n.Sender, n.Highlight, string(n.Actions), n.TS)
		}
		return exec(ctx, `INSERT INTO syncapi_notify_events (room_id, event_pos, event_id, thread_id, sender, highlight, actions, ts)
			VALUES `+storage.Rows(8, hi-lo)+` ON CONFLICT (room_id, event_pos) DO NOTHING`, args...)
	})
}

// sharedForUser restricts syncapi_notify_events c to rows that apply to
// user $1: not the sender, joined just before the event (memberships
// are keyed by the position their change took effect), no own row.
const sharedForUser = ` c.sender <> $1
	AND (SELECT m.membership FROM syncapi_memberships m WHERE m.user_id = $1 AND m.room_id = c.room_id AND m.pos < c.event_pos
		ORDER BY m.pos DESC LIMIT 1) = 'join'
	AND NOT EXISTS (SELECT 1 FROM syncapi_notifications x WHERE x.user_id = $1 AND x.room_id = c.room_id AND x.event_pos = c.event_pos)`

// UnreadCounts is notification/highlight counts for one room, total and per thread.
type UnreadCounts struct {
	Notification, Highlight int
	// Main counts the main timeline only (thread_id ""); Threads the rest.
	Main    Count
	Threads map[string]Count
}

// Count is one pair of counts.
type Count struct {
	Notification int `json:"notification_count"`
	Highlight    int `json:"highlight_count"`
}

// NoReceiptPos tells UnreadForRooms the caller has no receipt position:
// the receipts are read.
const NoReceiptPos types.StreamPosition = -1

// UnreadForRooms counts the user's notifications per room after its read
// receipts: the unthreaded receipt covers everything; a threaded one
// covers its thread ("main" is the main timeline). Rooms not in rooms
// are skipped; rooms without unread notifications are absent.
// receiptsAt is the receipt stream position of the caller's token
// (NoReceiptPos: none): while it has not moved, no receipt can have
// changed, so the user's receipts kept from the last count are used
// instead of read again.
//
// Counting every notification since the last read on every /sync grew
// with the unread backlog and made /sync fall behind under sustained
// writes, so the counts of each user are kept (unread_cache.go) and only
// notifications after the last counted position are read, as long as the
// user's read receipts are unchanged.
//
// joined is the user's joined rooms at upTo (nil: not known). With it,
// the rows after the last counted position are taken from the writer's
// log (unread_log.go) when it covers them: the count queries were about
// half of the /sync a new message wakes in a big room.
func (d *DB) UnreadForRooms(ctx context.Context, userID string, rooms map[string]bool, joined []string, upTo, receiptsAt types.StreamPosition) (map[string]*UnreadCounts, error) {
	read := d.unread.receipts(userID, receiptsAt)
	if read == nil {
		var err error
		if read, err = d.readReceiptsOf(ctx, userID); err != nil {
			return nil, err
		}
	}
	from, all := d.unread.start(userID, read, upTo)
	add := func(room, thread string, pos types.StreamPosition, hl bool) {
		if unreadAfter(read, room, thread, pos) {
			all.add(room, thread, hl)
		}
	}
	// Own rows, then shared rows of rooms the user joined at some point,
	// both after the unthreaded receipt. The shared rows' lower bound is
	// one expression: given two (first join, last counted), SQLite bounds
	// the index range by the first and filters by the second, reading
	// the room's whole history since the join on every /sync.
	const unthreadedRead = `COALESCE((SELECT MAX(r.event_pos) FROM syncapi_receipts r WHERE r.user_id = $1 AND r.room_id = n.room_id
		AND r.thread_id = '' AND r.receipt_type IN ('m.read', 'm.read.private')), 0)`
	queries := []string{
		`SELECT n.room_id, n.thread_id, n.event_pos, n.highlight FROM syncapi_notifications n
			WHERE n.user_id = $1 AND n.notify AND n.event_pos <= $2 AND n.event_pos > $3 AND n.event_pos > ` + unthreadedRead,
		`SELECT c.room_id, c.thread_id, c.event_pos, c.highlight FROM syncapi_notify_events c
			JOIN (SELECT room_id, MIN(pos) AS first_join FROM syncapi_memberships WHERE user_id = $1 AND membership = 'join' GROUP BY room_id) n
			ON n.room_id = c.room_id
			WHERE c.event_pos > (CASE WHEN n.first_join > $3 THEN n.first_join ELSE $3 END) AND c.event_pos <= $2
			AND c.event_pos > ` + unthreadedRead + ` AND` + sharedForUser,
	}
	if from > 0 && from < upTo && joined != nil && d.unreadLog.count(userID, joined, from, upTo, read, all) {
		from = upTo
	}
	for _, q := range queries {
		if from >= upTo {
			break // counted up to upTo already: woken by something else
		}
		if err := d.scanCounts(ctx, q, userID, from, upTo, add); err != nil {
			return nil, err
		}
	}
	if upTo != math.MaxInt64 { // "up to now": no position to keep the counts at
		d.unread.store(userID, read, receiptsAt, upTo, all)
	}
	return all.pick(rooms), nil
}

// unreadAfter says whether a notification at pos is after the read
// receipts read: the unthreaded one covers everything; a threaded one
// covers its thread ("main" is the main timeline).
func unreadAfter(read map[[2]string]types.StreamPosition, room, thread string, pos types.StreamPosition) bool {
	key := thread
	if key == "" {
		key = "main"
	}
	return pos > read[[2]string{room, ""}] && pos > read[[2]string{room, key}]
}

// readReceiptsOf returns the user's read positions by room and thread
// (m.read and m.read.private alike).
func (d *DB) readReceiptsOf(ctx context.Context, userID string) (map[[2]string]types.StreamPosition, error) {
	read := map[[2]string]types.StreamPosition{}
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, thread_id, MAX(event_pos) FROM syncapi_receipts
		WHERE user_id = $1 AND receipt_type IN ('m.read', 'm.read.private') GROUP BY room_id, thread_id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r, t string
		var p int64
		if err := rows.Scan(&r, &t, &p); err != nil {
			return nil, err
		}
		read[[2]string{r, t}] = types.StreamPosition(p)
	}
	return read, rows.Err()
}

func (d *DB) scanCounts(ctx context.Context, q, userID string, from, upTo types.StreamPosition, add func(string, string, types.StreamPosition, bool)) error {
	rows, err := d.DB.QueryContext(ctx, q, userID, int64(upTo), int64(from))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var room, thread string
		var pos int64
		var hl bool
		if err := rows.Scan(&room, &thread, &pos, &hl); err != nil {
			return err
		}
		add(room, thread, types.StreamPosition(pos), hl)
	}
	return rows.Err()
}

// Notifications lists the user's notifications newest first, with
// event position < from (0: newest). ID is the event position, the
// paging token. Own rows come from one query; shared rows from one
// bounded query per room the user joined, merged.
func (d *DB) Notifications(ctx context.Context, userID string, from int64, limit int, onlyHighlight bool) ([]Notification, error) {
	if from <= 0 {
		from = math.MaxInt64
	}
	hl := ""
	if onlyHighlight {
		hl = ` AND highlight`
	}
	out, err := scanNotifications(d.DB.QueryContext(ctx, `SELECT event_pos, room_id, event_id, thread_id, highlight, actions, ts
		FROM syncapi_notifications WHERE user_id = $1 AND notify AND event_pos < $2`+hl+` ORDER BY event_pos DESC LIMIT $3`,
		userID, from, limit))
	if err != nil {
		return nil, err
	}
	rooms, err := storage.Strings(d.DB.QueryContext(ctx, `SELECT DISTINCT room_id FROM syncapi_memberships WHERE user_id = $1 AND membership = 'join'`, userID))
	if err != nil {
		return nil, err
	}
	for _, room := range rooms {
		ns, err := scanNotifications(d.DB.QueryContext(ctx, `SELECT c.event_pos, c.room_id, c.event_id, c.thread_id, c.highlight, c.actions, c.ts
			FROM syncapi_notify_events c WHERE c.room_id = $4 AND c.event_pos < $2`+hl+` AND`+sharedForUser+`
			ORDER BY c.event_pos DESC LIMIT $3`, userID, from, limit, room))
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		out[i].UserID = userID
	}
	return out, nil
}

func scanNotifications(rows *sql.Rows, err error) ([]Notification, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var a string
		if err := rows.Scan(&n.ID, &n.RoomID, &n.EventID, &n.ThreadID, &n.Highlight, &a, &n.TS); err != nil {
			return nil, err
		}
		n.EventPos = types.StreamPosition(n.ID)
		n.Actions = json.RawMessage(a)
		out = append(out, n)
	}
	return out, rows.Err()
}

// PruneNotifications deletes notifications older than before (unix ms)
// and, per user, all but the newest keep. It returns the rows deleted.
// IDs grow with time, so the age cut is "every id below the first young
// row", found by walking the primary key from the oldest end.
func (d *DB) PruneNotifications(ctx context.Context, before int64, keep int) (int64, error) {
	defer d.forgetUnread() // kept unread counts may include deleted rows
	var deleted int64
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		deleted = 0 // run again after a lost connection: counted afresh
		var firstYoung int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT id FROM syncapi_notifications WHERE ts >= $1 ORDER BY id ASC LIMIT 1),
			(SELECT MAX(id) + 1 FROM syncapi_notifications), 0)`, before).Scan(&firstYoung)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM syncapi_notifications WHERE id < $1`, firstYoung)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		deleted += n
		// Shared rows and their exceptions carry the same ts, so they go together.
		if res, err = tx.ExecContext(ctx, `DELETE FROM syncapi_notify_events WHERE ts < $1`, before); err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		deleted += n
		return nil
	})
	if err != nil {
		return deleted, err
	}
	// The per-user cap counts own notifying rows only: deleting a
	// suppressing row would resurrect the shared notification.
	rows, err := d.DB.QueryContext(ctx, `SELECT user_id FROM syncapi_notifications WHERE notify GROUP BY user_id HAVING COUNT(*) > $1`, keep)
	if err != nil {
		return deleted, err
	}
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return deleted, err
		}
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return deleted, err
	}
	for _, u := range users {
		var n int64
		err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM syncapi_notifications WHERE user_id = $1 AND notify AND id <= (
				SELECT id FROM syncapi_notifications WHERE user_id = $1 AND notify ORDER BY id DESC LIMIT 1 OFFSET $2)`, u, keep)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			return nil
		})
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}

// NotificationsAfter lists the user's notifications with event position
// > after, oldest first: what a pusher has not delivered yet. ID is the
// event position.
func (d *DB) NotificationsAfter(ctx context.Context, userID string, after int64, limit int) ([]Notification, error) {
	own, err := scanNotifications(d.DB.QueryContext(ctx, `SELECT event_pos, room_id, event_id, thread_id, highlight, actions, ts
		FROM syncapi_notifications WHERE user_id = $1 AND notify AND event_pos > $2 ORDER BY event_pos ASC LIMIT $3`,
		userID, after, limit))
	if err != nil {
		return nil, err
	}
	shared, err := scanNotifications(d.DB.QueryContext(ctx, `SELECT c.event_pos, c.room_id, c.event_id, c.thread_id, c.highlight, c.actions, c.ts
		FROM syncapi_notify_events c
		WHERE c.event_pos > $2 AND c.room_id IN (SELECT room_id FROM syncapi_memberships WHERE user_id = $1 AND membership = 'join')
		AND`+sharedForUser+` ORDER BY c.event_pos ASC LIMIT $3`, userID, after, limit))
	if err != nil {
		return nil, err
	}
	out := append(own, shared...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		out[i].UserID = userID
	}
	return out, nil
}

// UnreadOfType counts the user's notifications for events of evType after
// the room's unthreaded read receipt (missed calls: m.call.invite).
func (d *DB) UnreadOfType(ctx context.Context, userID, evType string) (int, error) {
	unread := func(t string) string {
		return ` AND ` + t + `.event_pos > COALESCE((SELECT MAX(r.event_pos) FROM syncapi_receipts r WHERE r.user_id = $1 AND r.room_id = ` + t + `.room_id
		AND r.thread_id = '' AND r.receipt_type IN ('m.read', 'm.read.private')), 0)
		AND EXISTS (SELECT 1 FROM syncapi_events e WHERE e.pos = ` + t + `.event_pos AND e.type = $2)`
	}
	var own, shared int
	err := d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM syncapi_notifications n WHERE n.user_id = $1 AND n.notify`+unread("n"), userID, evType).Scan(&own)
	if err != nil {
		return 0, err
	}
	err = d.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM syncapi_notify_events c
		WHERE c.room_id IN (SELECT room_id FROM syncapi_memberships WHERE user_id = $1 AND membership = 'join') AND`+sharedForUser+unread("c"),
		userID, evType).Scan(&shared)
	return own + shared, err
}
