// Package storage opens the SQL databases the components keep their tables
// in, and runs their migrations.
//
// One SQL text serves both engines: queries are written with PostgreSQL's
// numbered placeholders ($1, $2, …), which are rewritten to SQLite's ?NNN
// form once, when a statement is first seen. Schemas use a few macros (see
// schema.go) for the handful of types the engines spell differently.
//
// SQLite is opened twice: a single writer connection (so writers queue in Go
// instead of failing with "database is locked") and a pool of read-only
// connections that WAL mode lets run beside the writer.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "github.com/mattn/go-sqlite3"    // registers the "sqlite3" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is one component's database. Reads go to a pool; writes go through
// WriteTx, which on SQLite is serialised onto one connection.
type DB struct {
	Dialect Dialect
	reader  *sql.DB
	writer  *sql.DB // same as reader on PostgreSQL
	// SQLite write transactions go through one writer goroutine (see
	// groupcommit.go), so the single writer connection is never contended
	// inside SQLite itself.
	writeQueue chan *writeReq
	writerDone chan struct{}
	announced  atomic.Int64 // write transactions announced, not yet queued (announce.go)
	savepoints *savepoints  // a group's savepoint statements (savepoints.go), SQLite only
	// Background WAL checkpoints (checkpoint.go), SQLite only.
	commitKick       chan struct{}
	stopCheckpoints  chan struct{}
	checkpointerDone chan struct{}
	closeMu          sync.RWMutex
	closed           bool

	rebound sync.Map // original query -> SQLite query
	metrics *dbMetrics
	// loseCommit: LoseNextCommitForTesting was called (faults.go).
	loseCommit atomic.Bool
}

// Open connects to dsn: "postgres://…" / "postgresql://…" for PostgreSQL,
// anything else is taken as an SQLite file path (an optional "sqlite:" or
// "file:" prefix is stripped).
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, SQLitePath(dsn))
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLitePath strips the optional scheme from an SQLite DSN.
func SQLitePath(dsn string) string {
	dsn = strings.TrimPrefix(dsn, "sqlite:")
	dsn = strings.TrimPrefix(dsn, "file:")
	return strings.TrimPrefix(dsn, "//")
}

// postgresPoolSize is the most connections one component's pool opens.
const postgresPoolSize = 20

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	var pool *sql.DB
	var err error
	if pgTraceEnabled {
		pool, err = openTracedPostgres(dsn)
	} else {
		pool, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool.SetMaxOpenConns(postgresPoolSize)
	pool.SetMaxIdleConns(postgresPoolSize)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	// Renewed now and then: a prepared statement's generic plan is
	// chosen once per connection, from the table sizes of that time (a
	// plan made on a new server's small tables scans them when large).
	pool.SetConnMaxLifetime(30 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres (%s): %w", redactDSN(dsn), err)
	}
	return &DB{Dialect: Postgres, reader: pool, writer: pool}, nil
}

// sqliteReaders is the most read connections one SQLite database keeps.
const sqliteReaders = 4

// Page cache sizes per connection (PRAGMA cache_size, KiB). They bound
// SQLite's memory now that no process-wide soft heap limit can
// (sqlite_memstatus.go): a hot database holds at most 2 MiB in its
// writer and 512 KiB in each of its readers; the OS page cache holds the
// rest, and most of the ten databases touch far fewer pages.
const (
	sqliteWriterCacheKiB = 2000
	sqliteReaderCacheKiB = 500
)

// sqliteSoftHeapLimit bounds the memory of all SQLite databases together
// only where SQLite's memory statistics could not be turned off.
const sqliteSoftHeapLimit = 8 << 20

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("empty sqlite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	// busy_timeout only matters for WAL checkpoints and other processes:
	// our own writers never contend because there is exactly one.
	// Page caches are per connection (sqliteWriterCacheKiB,
	// sqliteReaderCacheKiB). Larger caches mostly grew RSS without
	// speeding anything up.
	// A per-connection prepared statement cache: without it every query
	// is prepared and finalized again (~14% of CPU under load). 64 covers
	// a component's hot queries without holding hundreds per connection.
	// sqliteVFSParam: WAL frames gathered into one write (sqlite_walvfs.go).
	common := "_busy_timeout=30000&_foreign_keys=on&_synchronous=NORMAL&_stmt_cache_size=64" + sqliteVFSParam()
	writer, err := sql.Open("sqlite3", fmt.Sprintf("file:%s?_journal_mode=WAL&_txlock=immediate&_cache_size=-%d&%s", path, sqliteWriterCacheKiB, common))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if sqliteMemstatusOff != 0 {
		// SQLite keeps its memory statistics: one budget for the whole
		// process then works (near it, a connection reuses its own least
		// recently used pages instead of allocating).
		if _, err := writer.ExecContext(ctx, fmt.Sprintf("PRAGMA soft_heap_limit = %d", sqliteSoftHeapLimit)); err != nil {
			writer.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	// The writer's statement and savepoint journals (the original of
	// every page a statement or a group commit's SAVEPOINT changes) stay
	// in memory: on file, SQLite spills them past 64 KiB into a temporary
	// file, and a group's savepoints reach that, so each page was written
	// there too (~8.6 extra pwrites per event into 50 rooms).
	if _, err := writer.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if _, err := writer.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpointPages)); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite3", fmt.Sprintf("file:%s?_query_only=true&_cache_size=-%d&%s", path, sqliteReaderCacheKiB, common))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Four readers serve two cores well; more only grew memory (each has
	// its own page and statement caches).
	reader.SetMaxOpenConns(sqliteReaders)
	reader.SetMaxIdleConns(sqliteReaders)
	sp, err := prepareSavepoints(ctx, writer)
	if err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db := &DB{Dialect: SQLite, reader: reader, writer: writer, savepoints: sp}
	db.startWriter()
	db.startCheckpointer()
	return db, nil
}

// Close closes every connection.
func (db *DB) Close() error {
	db.uninstrument()
	if db.writeQueue != nil {
		db.closeMu.Lock()
		first := !db.closed
		if first {
			db.closed = true
			close(db.writeQueue)
		}
		db.closeMu.Unlock()
		<-db.writerDone
		if first {
			db.stopCheckpointer()
		}
	}
	err := db.reader.Close()
	if db.savepoints != nil {
		err = errors.Join(err, db.savepoints.close())
	}
	if db.writer != db.reader {
		if werr := db.writer.Close(); err == nil {
			err = werr
		}
	}
	return err
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// Q returns query in this database's placeholder syntax.
func (db *DB) Q(query string) string {
	if db.Dialect == Postgres {
		return query
	}
	if q, ok := db.rebound.Load(query); ok {
		return q.(string)
	}
	q := placeholder.ReplaceAllString(query, "?$1")
	db.rebound.Store(query, q)
	return q
}

// QueryContext runs a read on the reader pool (again, once, if its
// connection was lost; see connlost.go).
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	defer db.observeRead(time.Now())
	rows, err := db.reader.QueryContext(ctx, db.Q(query), args...)
	if err != nil && db.retryable(ctx, err) {
		return db.reader.QueryContext(ctx, db.Q(query), args...)
	}
	return rows, err
}

// QueryRowContext runs a single-row read on the reader pool (again,
// once, if its connection was lost).
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	defer db.observeRead(time.Now())
	row := db.reader.QueryRowContext(ctx, db.Q(query), args...)
	if db.retryable(ctx, row.Err()) {
		return db.reader.QueryRowContext(ctx, db.Q(query), args...)
	}
	return row
}

// ExecContext runs one write statement in its own transaction.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// WriteTx runs fn in a write transaction, committing if fn returns nil.
// On SQLite all write transactions of one database run one at a time on
// the single writer, several to a commit when they queue up (see
// groupcommit.go); fn must not start another WriteTx on the same database.
// On PostgreSQL fn runs again, once, if the connection was lost before
// the commit (see connlost.go): fn must only act through tx, or reset
// what it gathers when it starts.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.writeTx(ctx, fn, nil)
}

func (db *DB) writeTx(ctx context.Context, fn func(tx *Tx) error, a *Announcement) error {
	defer db.observeWrite(time.Now())
	if db.writeQueue != nil {
		return db.groupedWriteTx(ctx, fn, a)
	}
	a.Withdraw()
	committing, err := db.writeTxOnce(ctx, fn)
	if err != nil && !committing && db.retryable(ctx, err) {
		_, err = db.writeTxOnce(ctx, fn)
	}
	return err
}

// writeTxOnce is one attempt of WriteTx; committing says the error came
// from the commit, whose outcome is then unknown.
func (db *DB) writeTxOnce(ctx context.Context, fn func(tx *Tx) error) (committing bool, err error) {
	if db.Dialect == Postgres {
		return db.postgresWriteTxOnce(ctx, fn)
	}
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{db: db, tx: sqlTx}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	if err = fn(tx); err == nil {
		err = tx.runEnds()
	}
	if err != nil {
		_ = sqlTx.Rollback()
		return false, err
	}
	if err = sqlTx.Commit(); err != nil {
		return true, fmt.Errorf("commit: %w", err)
	}
	return false, nil
}

// Tx is a write transaction. Reads made through it see its own writes.
type Tx struct {
	db *DB
	tx txConn // a *sql.Tx; on PostgreSQL the *sql.Conn the transaction runs on
	// pgConn is tx on PostgreSQL; beginPending: its BEGIN waits for the
	// first statement (begin.go).
	pgConn       *sql.Conn
	beginPending bool
	beginErr     error
	// atCommit: writes sent with the COMMIT (PostgreSQL; atcommit.go).
	atCommit []atCommit
	// ends: writes merged after the write function (atend.go).
	ends []atEnd
	// grouped: one of several callers' work in a SQLite group commit
	// (groupcommit.go), whose statements ignore their context's
	// cancellation (see stmtCtx).
	grouped bool
}

// txConn runs a transaction's statements.
type txConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// stmtCtx is the context a statement of tx runs with. In a SQLite group
// commit a caller's cancellation must not reach the statement: the
// driver would interrupt the shared connection (and another caller's
// statement with it), and for every statement with a cancellable
// context it starts a goroutine to watch it, a large share of a small
// write's CPU. The group's commit still answers a cancelled caller with
// its error (runGroup checks each context before running it).
func (tx *Tx) stmtCtx(ctx context.Context) context.Context {
	if tx.grouped && ctx.Done() != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// Dialect is the engine this transaction runs on.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect }

func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx.beginPending {
		return tx.execBegin(ctx, query, args)
	}
	return tx.tx.ExecContext(tx.stmtCtx(ctx), tx.db.Q(query), args...)
}

// QueryContext runs a query in tx; as the first statement on PostgreSQL
// it waits for the BEGIN (begin.go).
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := tx.pgBegun(ctx); err != nil {
		return nil, err
	}
	return tx.tx.QueryContext(tx.stmtCtx(ctx), tx.db.Q(query), args...)
}

// QueryRowContext runs a one-row query in tx; as the first statement on
// PostgreSQL it waits for the BEGIN. If that fails the query is not sent
// (its row has a context error) and WriteTx returns the BEGIN's error.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := tx.pgBegun(ctx); err != nil {
		done, cancel := context.WithCancel(ctx)
		cancel()
		return tx.tx.QueryRowContext(done, query, args...)
	}
	return tx.tx.QueryRowContext(tx.stmtCtx(ctx), tx.db.Q(query), args...)
}

// InsertID runs a plain INSERT of one row (no RETURNING, no ON
// CONFLICT) into a table whose primary key idCol is {{SERIAL}}, and
// returns the new row's key. On SQLite that is the statement's last
// insert rowid: an exec instead of a query with RETURNING, whose rows
// cost about twice as much per insert (hot inserts: events, outboxes).
func (tx *Tx) InsertID(ctx context.Context, query, idCol string, args ...any) (int64, error) {
	var id int64
	if tx.db.Dialect == Postgres {
		err := tx.QueryRowScan(ctx, query+" RETURNING "+idCol, args, &id)
		return id, err
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Querier is what both *DB (reads) and *Tx can run queries with, so a
// storage function can serve both a plain read and a read inside a write.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// IsUniqueViolation reports whether err is a unique/primary key conflict.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // sqlite
		strings.Contains(msg, "SQLSTATE 23505") // postgres unique_violation
}

func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "@"); i > 0 {
		if j := strings.Index(dsn, "://"); j > 0 && j < i {
			return dsn[:j+3] + "***" + dsn[i:]
		}
	}
	return dsn
}

// Strings reads a one-column result of text values, closing the rows:
// return storage.Strings(db.QueryContext(ctx, query, args...)).
func Strings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Check reports whether both the read pool and the writer answer within
// ctx (readiness checks). On SQLite the write check queues behind
// running writes, so a writer stuck for longer than ctx shows here.
func (db *DB) Check(ctx context.Context) error {
	var one int
	if err := db.reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return db.WriteTx(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
	})
}
