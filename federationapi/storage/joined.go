package storage

import (
	"context"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// AddJoined records that the join event eventID puts serverName in roomID.
func (s *DB) AddJoined(ctx context.Context, tx *istorage.Tx, roomID, eventID, serverName string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO federationapi_joined_servers (room_id, event_id, server_name) VALUES ($1, $2, $3)
		ON CONFLICT (room_id, event_id) DO NOTHING`, roomID, eventID, serverName)
	return err
}

// RemoveJoined forgets the membership events that left current state.
func (s *DB) RemoveJoined(ctx context.Context, tx *istorage.Tx, roomID string, eventIDs []string) error {
	for _, id := range eventIDs {
		if _, err := tx.ExecContext(ctx, `DELETE FROM federationapi_joined_servers WHERE room_id = $1 AND event_id = $2`, roomID, id); err != nil {
			return err
		}
	}
	return nil
}

// JoinedServers lists the distinct servers with a joined member in roomID.
// q may be the DB (reads) or a Tx (to see the transaction's own writes).
func (s *DB) JoinedServers(ctx context.Context, q istorage.Querier, roomID string) ([]string, error) {
	return istorage.Strings(q.QueryContext(ctx, `SELECT DISTINCT server_name FROM federationapi_joined_servers WHERE room_id = $1 ORDER BY server_name`, roomID))
}

// ForgetRoom deletes what is known of a purged room's servers.
func (s *DB) ForgetRoom(ctx context.Context, tx *istorage.Tx, roomID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM federationapi_joined_servers WHERE room_id = $1`, roomID)
	return err
}

// RoomRowCounts counts the federationapi rows of a room, for checking a
// purge (tests).
func (s *DB) RoomRowCounts(ctx context.Context, roomID string) (map[string]int, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM federationapi_joined_servers WHERE room_id = $1`, roomID).Scan(&n)
	return map[string]int{"federationapi_joined_servers": n}, err
}
