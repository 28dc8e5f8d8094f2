package storage

import (
	"context"
	"encoding/json"
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
	Actions   json.RawMessage
	TS        int64
}

// InsertNotification records n.
func InsertNotification(ctx context.Context, tx *storage.Tx, n Notification) error {
	return InsertNotifications(ctx, tx, []Notification{n})
}

// notificationBatch is how many rows one INSERT carries (8 parameters
// each, far below either engine's parameter limit).
const notificationBatch = 100

// InsertNotifications records ns with one multi-row INSERT per batch: an
// event in a big room notifies hundreds of members at once.
func InsertNotifications(ctx context.Context, tx *storage.Tx, ns []Notification) error {
	for len(ns) > 0 {
		n := min(len(ns), notificationBatch)
		var b strings.Builder
		b.WriteString(`INSERT INTO syncapi_notifications (user_id, room_id, event_id, event_pos, thread_id, highlight, actions, ts) VALUES `)
		args := make([]any, 0, n*8)
		for i, x := range ns[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(" + inList(len(args)+1, 8) + ")")
			args = append(args, x.UserID, x.RoomID, x.EventID, int64(x.EventPos), x.ThreadID, x.Highlight, string(x.Actions), x.TS)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		ns = ns[n:]
	}
	return nil
}

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

// UnreadForRooms counts the user's notifications per room after its read
// receipts: the unthreaded receipt covers everything; a threaded one
// covers its thread ("main" is the main timeline). Rooms not in rooms
// are skipped; rooms without unread notifications are absent.
func (d *Database) UnreadForRooms(ctx context.Context, userID string, rooms map[string]bool, upTo types.StreamPosition) (map[string]*UnreadCounts, error) {
	read := map[[2]string]types.StreamPosition{}
	rows, err := d.DB.QueryContext(ctx, `SELECT room_id, thread_id, MAX(event_pos) FROM syncapi_receipts
		WHERE user_id = $1 AND receipt_type IN ('m.read', 'm.read.private') GROUP BY room_id, thread_id`, userID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r, t string
		var p int64
		if err := rows.Scan(&r, &t, &p); err != nil {
			rows.Close()
			return nil, err
		}
		read[[2]string{r, t}] = types.StreamPosition(p)
	}
	rows.Close()
	rows, err = d.DB.QueryContext(ctx, `SELECT room_id, thread_id, event_pos, highlight FROM syncapi_notifications n
		WHERE user_id = $1 AND event_pos <= $2 AND event_pos > COALESCE((SELECT MAX(r.event_pos) FROM syncapi_receipts r
			WHERE r.user_id = n.user_id AND r.room_id = n.room_id AND r.thread_id = '' AND r.receipt_type IN ('m.read', 'm.read.private')), 0)`,
		userID, int64(upTo))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*UnreadCounts{}
	for rows.Next() {
		var room, thread string
		var pos int64
		var hl bool
		if err := rows.Scan(&room, &thread, &pos, &hl); err != nil {
			return nil, err
		}
		if rooms != nil && !rooms[room] {
			continue
		}
		key := thread
		if key == "" {
			key = "main"
		}
		if types.StreamPosition(pos) <= read[[2]string{room, key}] {
			continue
		}
		c := out[room]
		if c == nil {
			c = &UnreadCounts{Threads: map[string]Count{}}
			out[room] = c
		}
		h := 0
		if hl {
			h = 1
		}
		c.Notification++
		c.Highlight += h
		if thread == "" {
			c.Main.Notification++
			c.Main.Highlight += h
		} else {
			tc := c.Threads[thread]
			tc.Notification++
			tc.Highlight += h
			c.Threads[thread] = tc
		}
	}
	return out, rows.Err()
}

// Notifications lists the user's notifications newest first, with id < from (0: newest).
func (d *Database) Notifications(ctx context.Context, userID string, from int64, limit int, onlyHighlight bool) ([]Notification, error) {
	q := `SELECT id, room_id, event_id, event_pos, thread_id, highlight, actions, ts FROM syncapi_notifications WHERE user_id = $1`
	args := []any{userID}
	if from > 0 {
		q += ` AND id < $2`
		args = append(args, from)
	} else {
		q += ` AND $2 = 0`
		args = append(args, 0)
	}
	if onlyHighlight {
		q += ` AND highlight`
	}
	q += ` ORDER BY id DESC LIMIT $3`
	args = append(args, limit)
	rows, err := d.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n := Notification{UserID: userID}
		var a string
		if err := rows.Scan(&n.ID, &n.RoomID, &n.EventID, &n.EventPos, &n.ThreadID, &n.Highlight, &a, &n.TS); err != nil {
			return nil, err
		}
		n.Actions = json.RawMessage(a)
		out = append(out, n)
	}
	return out, rows.Err()
}

// PruneNotifications deletes notifications older than before (unix ms)
// and, per user, all but the newest keep. It returns the rows deleted.
// IDs grow with time, so the age cut is "every id below the first young
// row", found by walking the primary key from the oldest end.
func (d *Database) PruneNotifications(ctx context.Context, before int64, keep int) (int64, error) {
	var deleted int64
	err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
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
		return nil
	})
	if err != nil {
		return deleted, err
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT user_id FROM syncapi_notifications GROUP BY user_id HAVING COUNT(*) > $1`, keep)
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
		err := d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM syncapi_notifications WHERE user_id = $1 AND id <= (
				SELECT id FROM syncapi_notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, u, keep)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			deleted += n
			return nil
		})
		if err != nil {
			return deleted, err
		}
	}
	return deleted, nil
}
