package storage

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// AddErasedUser records that userID was deactivated with erase.
func (d *DB) AddErasedUser(ctx context.Context, tx *storage.Tx, userID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO syncapi_erased_users (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`, userID)
	return err
}

// ErasedUsers lists every erased user.
func (d *DB) ErasedUsers(ctx context.Context) ([]string, error) {
	return storage.Strings(d.DB.QueryContext(ctx, `SELECT user_id FROM syncapi_erased_users`))
}

// UnredactedMessagesBy returns up to limit events after position after
// (in position order) that sender sent and that are not state and not
// redacted. (No index on sender: an erasure walks the table once.)
func (d *DB) UnredactedMessagesBy(ctx context.Context, tx *storage.Tx, sender string, after types.StreamPosition, limit int) ([]*types.Event, error) {
	return scanEvents(tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM syncapi_events
		WHERE pos > $2 AND sender = $1 AND state_key IS NULL AND redacted = FALSE ORDER BY pos LIMIT $3`, sender, int64(after), limit))
}
