package storage

import "unsafe"

// Text is b as a TEXT statement argument without a copy. string(b)
// copies: for the event JSON and the outbox rows that was ~2 KB of
// garbage per event sent, each copy read once by the driver (SQLite
// binds it as a transient copy of its own; pgx encodes it into its
// buffer). b must not change until the statement has run (for
// Tx.InsertIDAtCommit: until the transaction commits); callers pass
// immutable event JSON and encoded messages.
func Text(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
