package storage

import (
	"context"
	"encoding/json"

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
	_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_notifications (user_id, room_id, event_id, event_pos, thread_id, highlight, actions, ts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, n.UserID, n.RoomID, n.EventID, int64(n.EventPos), n.ThreadID, n.Highlight, string(n.Actions), n.TS)
	return err
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

// Unread counts the user's notifications in roomID after its read
// receipts: the unthreaded receipt covers everything; a threaded one
// covers its thread ("main" is the main timeline).
func (d *Database) Unread(ctx context.Context, userID, roomID string, upTo types.StreamPosition) (UnreadCounts, error) {
	out := UnreadCounts{Threads: map[string]Count{}}
	read, err := d.ReadUpTo(ctx, userID, roomID)
	if err != nil {
		return out, err
	}
	floor := read[""]
	rows, err := d.DB.QueryContext(ctx, `SELECT thread_id, event_pos, highlight FROM syncapi_notifications
		WHERE user_id = $1 AND room_id = $2 AND event_pos > $3 AND event_pos <= $4`, userID, roomID, int64(floor), int64(upTo))
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var thread string
		var pos int64
		var hl bool
		if err := rows.Scan(&thread, &pos, &hl); err != nil {
			return out, err
		}
		key := thread
		if key == "" {
			key = "main"
		}
		if types.StreamPosition(pos) <= read[key] {
			continue
		}
		h := 0
		if hl {
			h = 1
		}
		out.Notification++
		out.Highlight += h
		if thread == "" {
			out.Main.Notification++
			out.Main.Highlight += h
		} else {
			c := out.Threads[thread]
			c.Notification++
			c.Highlight += h
			out.Threads[thread] = c
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
