package storage

import "context"

// ReleaseIdleMemory gives back what start-up left in an SQLite
// database's connections. Migrations and the components' set-up open
// several readers and fill every connection's page cache, statement
// cache and lookaside buffer (~100–300 KB each, 20-odd connections in
// all), while a server that then idles reads through one or two. The
// idle readers are closed (the pool opens new ones when reads need
// them) and the writer drops its unused cached pages; the files stay in
// the OS page cache. Nothing on PostgreSQL.
func (db *DB) ReleaseIdleMemory(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	db.reader.SetMaxIdleConns(0)
	db.reader.SetMaxIdleConns(sqliteReaders)
	// The writer pool's one connection: this waits for a running group
	// commit, as the next group waits for it.
	_, err := db.writer.ExecContext(ctx, "PRAGMA shrink_memory")
	return err
}
