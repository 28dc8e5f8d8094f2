package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// DB is the roomserver database.
type DB struct {
	*storage.DB
}

// New wraps an opened (and migrated) database.
func New(db *storage.DB) *DB { return &DB{DB: db} }

// Room is a row of roomserver_rooms.
type Room struct {
	NID         int64
	RoomID      string
	Version     string
	SnapshotNID int64
	Extremities []string
	Depth       int64
	Published   bool
}

// RoomByID returns nil, nil when the room is unknown.
func (d *DB) RoomByID(ctx context.Context, q storage.Querier, roomID string) (*Room, error) {
	r := Room{RoomID: roomID}
	var ext string
	err := q.QueryRowContext(ctx, `SELECT room_nid, room_version, snapshot_nid, extremities, depth, published
		FROM roomserver_rooms WHERE room_id = $1`, roomID).Scan(&r.NID, &r.Version, &r.SnapshotNID, &ext, &r.Depth, &r.Published)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ext), &r.Extremities); err != nil {
		return nil, err
	}
	return &r, nil
}

// InsertRoom creates a room row.
func (d *DB) InsertRoom(ctx context.Context, tx *storage.Tx, roomID, version string) (int64, error) {
	var nid int64
	err := tx.QueryRowContext(ctx, `INSERT INTO roomserver_rooms (room_id, room_version) VALUES ($1, $2) RETURNING room_nid`,
		roomID, version).Scan(&nid)
	return nid, err
}

// UpdateRoomHead records the room's current state, DAG tips and depth.
// The last write of an input batch, read back by no later statement of
// it: it is written at the transaction's end, in a SQLite group commit
// with the other rooms' heads (rooms_head.go).
func (d *DB) UpdateRoomHead(ctx context.Context, tx *storage.Tx, roomNID, snapshotNID int64, extremities []string, depth int64) error {
	ext, err := json.Marshal(extremities)
	if err != nil {
		return err
	}
	tx.AtEnd(roomHeads, &roomHead{nid: roomNID, snapshot: snapshotNID, extremities: string(ext), depth: depth})
	return nil
}

// SetPublished lists or unlists a room in the public directory.
func (d *DB) SetPublished(ctx context.Context, roomID string, published bool) error {
	_, err := d.ExecContext(ctx, `UPDATE roomserver_rooms SET published = $1 WHERE room_id = $2`, published, roomID)
	return err
}

// PublishedRooms lists rooms in the public directory.
func (d *DB) PublishedRooms(ctx context.Context) ([]string, error) {
	return storage.Strings(d.QueryContext(ctx, `SELECT room_id FROM roomserver_rooms WHERE published = $1 ORDER BY room_nid`, true))
}

// SetNetworkPublished lists or unlists a room in an appservice's
// directory of one network.
func (d *DB) SetNetworkPublished(ctx context.Context, appserviceID, networkID, roomID string, published bool) error {
	q := `DELETE FROM roomserver_network_rooms WHERE appservice_id = $1 AND network_id = $2 AND room_id = $3`
	if published {
		q = `INSERT INTO roomserver_network_rooms (appservice_id, network_id, room_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	}
	_, err := d.ExecContext(ctx, q, appserviceID, networkID, roomID)
	return err
}

// NetworkPublishedRooms lists the rooms of one appservice network
// directory, or of all of them when appserviceID is "".
func (d *DB) NetworkPublishedRooms(ctx context.Context, appserviceID, networkID string) ([]string, error) {
	if appserviceID == "" {
		return storage.Strings(d.QueryContext(ctx, `SELECT DISTINCT room_id FROM roomserver_network_rooms ORDER BY room_id`))
	}
	return storage.Strings(d.QueryContext(ctx, `SELECT room_id FROM roomserver_network_rooms WHERE appservice_id = $1 AND network_id = $2 ORDER BY room_id`,
		appserviceID, networkID))
}

// RoomByNID returns the ID and version of a room by NID.
func (d *DB) RoomByNID(ctx context.Context, nid int64) (roomID, version string, err error) {
	err = d.QueryRowContext(ctx, `SELECT room_id, room_version FROM roomserver_rooms WHERE room_nid = $1`, nid).Scan(&roomID, &version)
	return
}

// AllRooms lists every room this server knows, oldest first (admin API).
func (d *DB) AllRooms(ctx context.Context) ([]string, error) {
	return storage.Strings(d.QueryContext(ctx, `SELECT room_id FROM roomserver_rooms ORDER BY room_nid`))
}
