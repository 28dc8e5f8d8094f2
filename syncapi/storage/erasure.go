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

// UnredactedMessagesBy returns the events sender sent that are not state
// and not redacted. (No index on sender: this runs once per erasure.)
func (d *DB) UnredactedMessagesBy(ctx context.Context, tx *storage.Tx, sender string) ([]*types.Event, error) {
	return scanEvents(tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM syncapi_events
		WHERE sender = $1 AND state_key IS NULL AND redacted = FALSE ORDER BY pos`, sender))
}
