package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// RoomDelete is one room deletion: its request (Params, JSON), where it
// is (Status) and what it did (Result, JSON).
type RoomDelete struct {
	DeleteID  string
	RoomID    string
	Requester string
	Params    string
	Status    string
	Error     string
	Result    string
	CreatedTS int64
	UpdatedTS int64
}

// InsertRoomDelete stores a new deletion.
func (d *DB) InsertRoomDelete(ctx context.Context, r RoomDelete) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO adminapi_room_deletes
			(delete_id, room_id, requester, params, status, error, result, created_ts, updated_ts)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.DeleteID, r.RoomID, r.Requester, r.Params, r.Status, r.Error, r.Result, r.CreatedTS, r.UpdatedTS)
		return err
	})
}

// UpdateRoomDelete records a deletion's progress.
func (d *DB) UpdateRoomDelete(ctx context.Context, deleteID, status, errText, result string, ts int64) error {
	return d.DB.WriteTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE adminapi_room_deletes SET status = $2, error = $3, result = $4, updated_ts = $5
			WHERE delete_id = $1`, deleteID, status, errText, result, ts)
		return err
	})
}

const roomDeleteColumns = `delete_id, room_id, requester, params, status, error, result, created_ts, updated_ts`

func scanRoomDeletes(q storage.Querier, ctx context.Context, where string, args ...any) ([]RoomDelete, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+roomDeleteColumns+` FROM adminapi_room_deletes WHERE `+where+` ORDER BY created_ts, delete_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoomDelete
	for rows.Next() {
		var r RoomDelete
		if err := rows.Scan(&r.DeleteID, &r.RoomID, &r.Requester, &r.Params, &r.Status, &r.Error, &r.Result, &r.CreatedTS, &r.UpdatedTS); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RoomDelete returns one deletion or storage.ErrNotFound.
func (d *DB) RoomDelete(ctx context.Context, deleteID string) (*RoomDelete, error) {
	l, err := scanRoomDeletes(d.DB, ctx, `delete_id = $1`, deleteID)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, storage.ErrNotFound
	}
	return &l[0], nil
}

// RoomDeletes lists a room's deletions, oldest first.
func (d *DB) RoomDeletes(ctx context.Context, roomID string) ([]RoomDelete, error) {
	return scanRoomDeletes(d.DB, ctx, `room_id = $1`, roomID)
}

// UnfinishedRoomDeletes lists deletions whose status is not one of done
// (to resume them on start).
func (d *DB) UnfinishedRoomDeletes(ctx context.Context, done ...string) ([]RoomDelete, error) {
	return scanRoomDeletes(d.DB, ctx, `status NOT IN (`+storage.InList(1, len(done))+`)`, anySlice(done)...)
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
