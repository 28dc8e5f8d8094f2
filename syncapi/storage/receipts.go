package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Receipt is one user's receipt in a room.
type Receipt struct {
	RoomID, Type, UserID, ThreadID, EventID string
	EventPos                                types.StreamPosition
	TS                                      int64
	Pos                                     types.StreamPosition
}

// UpsertReceipt stores r at a new receipt position unless it would move
// the user's receipt backwards. It returns the position (0 if ignored).
func (d *DB) UpsertReceipt(ctx context.Context, tx *storage.Tx, r Receipt) (types.StreamPosition, error) {
	var cur int64
	err := tx.QueryRowContext(ctx, `SELECT event_pos FROM syncapi_receipts WHERE room_id = $1 AND receipt_type = $2 AND user_id = $3 AND thread_id = $4`,
		r.RoomID, r.Type, r.UserID, r.ThreadID).Scan(&cur)
	if err == nil && types.StreamPosition(cur) > r.EventPos {
		return 0, nil
	}
	if err = ignoreNoRows(err); err != nil {
		return 0, err
	}
	pos, err := d.NextPos(ctx, tx, CounterReceipt)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO syncapi_receipts (room_id, receipt_type, user_id, thread_id, event_id, event_pos, ts, pos)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET event_id = excluded.event_id,
			event_pos = excluded.event_pos, ts = excluded.ts, pos = excluded.pos`,
		r.RoomID, r.Type, r.UserID, r.ThreadID, r.EventID, int64(r.EventPos), r.TS, int64(pos))
	return pos, err
}

// ReceiptsBetween returns receipts in rooms changed in (from, to]. With
// from == 0 it returns every receipt of those rooms.
func (d *DB) ReceiptsBetween(ctx context.Context, roomIDs []string, from, to types.StreamPosition) ([]Receipt, error) {
	var out []Receipt
	for len(roomIDs) > 0 {
		n := min(len(roomIDs), 500)
		args := []any{int64(from), int64(to)}
		for i := range n {
			args = append(args, roomIDs[i])
		}
		rows, err := d.DB.QueryContext(ctx, `SELECT room_id, receipt_type, user_id, thread_id, event_id, event_pos, ts, pos FROM syncapi_receipts
			WHERE pos > $1 AND pos <= $2 AND room_id IN (`+storage.InList(3, n)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r Receipt
			if err := rows.Scan(&r.RoomID, &r.Type, &r.UserID, &r.ThreadID, &r.EventID, &r.EventPos, &r.TS, &r.Pos); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, r)
		}
		rows.Close()
		roomIDs = roomIDs[n:]
	}
	return out, nil
}

// ReadUpTo returns the user's read positions in roomID: the unthreaded
// one ("" key: main/unthreaded receipts) and per thread. Both m.read and
// m.read.private count.
func (d *DB) ReadUpTo(ctx context.Context, userID, roomID string) (map[string]types.StreamPosition, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT thread_id, MAX(event_pos) FROM syncapi_receipts
		WHERE user_id = $1 AND room_id = $2 AND receipt_type IN ('m.read', 'm.read.private') GROUP BY thread_id`, userID, roomID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]types.StreamPosition{}
	for rows.Next() {
		var t string
		var p int64
		if err := rows.Scan(&t, &p); err != nil {
			return nil, err
		}
		out[t] = types.StreamPosition(p)
	}
	return out, rows.Err()
}
