package storage

// QueuedWrites is how many write transactions wait for the SQLite writer
// (0 on PostgreSQL).
func QueuedWrites(db *DB) int { return len(db.writeQueue) }

// TracePostgres makes the PostgreSQL databases opened until restore
// count their round trips in PGTrace.
func TracePostgres() (restore func()) {
	was := pgTraceEnabled
	pgTraceEnabled = true
	return func() { pgTraceEnabled = was }
}
