package storage

// QueuedWrites is how many write transactions wait for the SQLite writer
// (0 on PostgreSQL).
func QueuedWrites(db *DB) int { return len(db.writeQueue) }
