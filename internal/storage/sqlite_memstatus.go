//go:build cgo

package storage

// SQLite's memory statistics are turned off before any database opens.
// With them on (the library's default), every sqlite3_malloc and free of
// every connection takes one process-wide mutex to count bytes. A server
// runs ten databases' writers and readers on their own threads, so that
// mutex was contended: ~6 futex calls per event sent into 50 rooms, each
// a thread put to sleep and woken (perf, docs/performance.md round
// thirteen). Without statistics the soft heap limit is not enforced
// either, so per-connection cache sizes bound memory instead (db.go).

/*
// sqlite3_config is SQLite's own, compiled into this binary by
// github.com/mattn/go-sqlite3. Weak, so that cgo's link check of this
// package alone (which does not include the SQLite objects) passes; the
// program's link binds it to SQLite's definition.
extern int sqlite3_config(int, ...) __attribute__((weak));
extern long long sqlite3_memory_used(void) __attribute__((weak));

// SQLITE_CONFIG_MEMSTATUS from sqlite3.h.
#define AXON_SQLITE_CONFIG_MEMSTATUS 9

// Must run before SQLite initialises (the first open): sqlite3_config
// refuses (SQLITE_MISUSE) after.
static int axon_sqlite_memstatus_off(void) {
	if (!sqlite3_config) return -1;
	return sqlite3_config(AXON_SQLITE_CONFIG_MEMSTATUS, 0);
}

static long long axon_sqlite_memory_used(void) {
	return sqlite3_memory_used ? sqlite3_memory_used() : -1;
}
*/
import "C"

// sqliteMemstatusOff is SQLite's answer to turning its statistics off: 0
// when done. Package variables are set before main and before any open.
var sqliteMemstatusOff = int(C.axon_sqlite_memstatus_off())

// sqliteMemoryUsed is SQLite's count of its heap bytes (0 while it keeps
// no statistics).
func sqliteMemoryUsed() int64 { return int64(C.axon_sqlite_memory_used()) }
