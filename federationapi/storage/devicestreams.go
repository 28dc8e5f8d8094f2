package storage

import (
	"context"
	"database/sql"
	"errors"
)

// RemoteDeviceStream is the last device list stream ID applied for a
// remote user; ok is false while none has been.
func (s *DB) RemoteDeviceStream(ctx context.Context, userID string) (streamID int64, ok bool, err error) {
	err = s.DB.QueryRowContext(ctx, `SELECT stream_id FROM federationapi_remote_device_streams WHERE user_id = $1`, userID).Scan(&streamID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return streamID, err == nil, err
}

// AdvanceRemoteDeviceStream records streamID for a remote user unless a
// later one is recorded, and reports whether it did (false: a duplicate
// or an old update, already superseded).
func (s *DB) AdvanceRemoteDeviceStream(ctx context.Context, userID string, streamID int64) (bool, error) {
	res, err := s.DB.ExecContext(ctx, `INSERT INTO federationapi_remote_device_streams (user_id, stream_id) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET stream_id = excluded.stream_id
		WHERE federationapi_remote_device_streams.stream_id < excluded.stream_id`, userID, streamID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
