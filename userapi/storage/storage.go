// Package storage is the userapi's SQL storage: one implementation for
// SQLite and PostgreSQL (see internal/storage), tested on both.
package storage

import (
	"database/sql"
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// ErrNotFound: no such row.
var ErrNotFound = errors.New("not found")

// ErrExists: a row with this key already exists.
var ErrExists = errors.New("already exists")

// ErrTooLarge: the write would exceed a size limit.
var ErrTooLarge = errors.New("too large")

// Database holds the userapi tables.
type Database struct {
	db *storage.DB
}

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *Database { return &Database{db: db} }

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
