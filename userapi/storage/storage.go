// Package storage is the userapi's SQL storage: one implementation for
// SQLite and PostgreSQL (see internal/storage), tested on both.
package storage

import (
	"errors"

	"github.com/axon-hs/axon/internal/storage"
)

// ErrExists: a row with this key already exists.
var ErrExists = errors.New("already exists")

// ErrTooLarge: the write would exceed a size limit.
var ErrTooLarge = errors.New("too large")

// DB holds the userapi tables. Not found is storage.ErrNotFound.
type DB struct {
	*storage.DB
}

// New wraps db, whose schema Migrations must already have been applied.
func New(db *storage.DB) *DB { return &DB{DB: db} }
