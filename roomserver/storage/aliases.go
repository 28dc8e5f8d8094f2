package storage

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// ErrAliasExists is returned when an alias is taken.
var ErrAliasExists = errors.New("alias already exists")

// InsertAlias maps alias to roomID.
func (d *DB) InsertAlias(ctx context.Context, alias, roomID, creator string) error {
	_, err := d.ExecContext(ctx, `INSERT INTO roomserver_aliases (alias, room_id, creator) VALUES ($1, $2, $3)`, alias, roomID, creator)
	if storage.IsUniqueViolation(err) {
		return ErrAliasExists
	}
	return err
}

// DeleteAlias removes alias; it reports whether it existed.
func (d *DB) DeleteAlias(ctx context.Context, alias string) (bool, error) {
	res, err := d.ExecContext(ctx, `DELETE FROM roomserver_aliases WHERE alias = $1`, alias)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Alias resolves alias; empty roomID when unknown.
func (d *DB) Alias(ctx context.Context, alias string) (roomID, creator string, err error) {
	err = d.QueryRowContext(ctx, `SELECT room_id, creator FROM roomserver_aliases WHERE alias = $1`, alias).Scan(&roomID, &creator)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return
}

// AliasesForRoom lists a room's aliases.
func (d *DB) AliasesForRoom(ctx context.Context, roomID string) ([]string, error) {
	return storage.Strings(d.QueryContext(ctx, `SELECT alias FROM roomserver_aliases WHERE room_id = $1 ORDER BY alias`, roomID))
}

// MoveAliases re-points every alias of from to to (room upgrades).
func (d *DB) MoveAliases(ctx context.Context, from, to string) error {
	_, err := d.ExecContext(ctx, `UPDATE roomserver_aliases SET room_id = $1 WHERE room_id = $2`, to, from)
	return err
}
