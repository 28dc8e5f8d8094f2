package storage

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Round-trip counting for PostgreSQL, when AXON_PG_TRACE is set (a
// measuring aid for benchmarks: statements and round trips per event;
// nothing is installed otherwise). Every statement sent alone is a round
// trip, a batch (pipeline) is one, a statement prepared on first use is
// one more, and so is pgx's ping of a connection idle for over a second.

// pgTraceEnabled is read once, when a database opens.
var pgTraceEnabled = os.Getenv("AXON_PG_TRACE") != ""

// PGTrace is the counts so far, by database and statement.
var PGTrace = &pgTracer{stmts: map[pgTraceKey]*pgTraceCount{}}

type pgTraceKey struct{ db, kind, sql string }

type pgTraceCount struct {
	n    int
	wait time.Duration
}

type pgTracer struct {
	mu    sync.Mutex
	stmts map[pgTraceKey]*pgTraceCount
}

type pgTraceStart struct{}

func (t *pgTracer) add(db, kind, sql string, d time.Duration) {
	sql = strings.Join(strings.Fields(sql), " ")
	if len(sql) > 110 {
		sql = sql[:110]
	}
	t.mu.Lock()
	c := t.stmts[pgTraceKey{db, kind, sql}]
	if c == nil {
		c = &pgTraceCount{}
		t.stmts[pgTraceKey{db, kind, sql}] = c
	}
	c.n++
	c.wait += d
	t.mu.Unlock()
}

func since(ctx context.Context) time.Duration {
	if s, ok := ctx.Value(pgTraceStart{}).(time.Time); ok {
		return time.Since(s)
	}
	return 0
}

type pgTraceSQL struct{}

func (t *pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(context.WithValue(ctx, pgTraceStart{}, time.Now()), pgTraceSQL{}, d.SQL)
}

func (t *pgTracer) TraceQueryEnd(ctx context.Context, c *pgx.Conn, _ pgx.TraceQueryEndData) {
	sql, _ := ctx.Value(pgTraceSQL{}).(string)
	t.add(c.Config().Database, "query", sql, since(ctx))
}

func (t *pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var names []string
	for _, q := range d.Batch.QueuedQueries {
		s := strings.Fields(q.SQL)
		names = append(names, strings.Join(s[:min(len(s), 4)], " "))
	}
	return context.WithValue(context.WithValue(ctx, pgTraceStart{}, time.Now()), pgTraceSQL{}, strings.Join(names, " | "))
}

func (t *pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (t *pgTracer) TraceBatchEnd(ctx context.Context, c *pgx.Conn, _ pgx.TraceBatchEndData) {
	sql, _ := ctx.Value(pgTraceSQL{}).(string)
	t.add(c.Config().Database, "batch", sql, since(ctx))
}

func (t *pgTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	return context.WithValue(context.WithValue(ctx, pgTraceStart{}, time.Now()), pgTraceSQL{}, d.SQL)
}

func (t *pgTracer) TracePrepareEnd(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareEndData) {
	if d.AlreadyPrepared {
		return
	}
	sql, _ := ctx.Value(pgTraceSQL{}).(string)
	t.add(c.Config().Database, "prepare", sql, since(ctx))
}

// PGTraceSnapshot is the counts at one time.
type PGTraceSnapshot map[pgTraceKey]pgTraceCount

// Snapshot returns a copy of the counts.
func (t *pgTracer) Snapshot() PGTraceSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[pgTraceKey]pgTraceCount, len(t.stmts))
	for k, c := range t.stmts {
		out[k] = *c
	}
	return out
}

// SentSince is how many statements and pipelines were sent to database
// db since before (preparations and pings left out: a connection's first
// use of a statement prepares it).
func (t *pgTracer) SentSince(before PGTraceSnapshot, db string) int {
	n := 0
	for k, c := range t.Snapshot() {
		if k.db == db && (k.kind == "query" || k.kind == "batch") {
			n += c.n - before[k].n
		}
	}
	return n
}

// WriteSince writes the counts added since before, per unit (events), for
// the database db, most frequent first.
func (t *pgTracer) WriteSince(w io.Writer, before PGTraceSnapshot, db string, units int) {
	now := t.Snapshot()
	type row struct {
		k pgTraceKey
		c pgTraceCount
	}
	var rows []row
	var total pgTraceCount
	for k, c := range now {
		if k.db != db {
			continue
		}
		c.n -= before[k].n
		c.wait -= before[k].wait
		if c.n > 0 {
			rows = append(rows, row{k, c})
			total.n += c.n
			total.wait += c.wait
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].c.n > rows[j].c.n })
	fmt.Fprintf(w, "round trips per unit: %.3f (wait %.1f µs per unit)\n", float64(total.n)/float64(units), float64(total.wait.Microseconds())/float64(units))
	for _, r := range rows {
		fmt.Fprintf(w, "%8.3f %7.1fµs %-7s %s\n", float64(r.c.n)/float64(units), float64(r.c.wait.Microseconds())/float64(r.c.n), r.k.kind, r.k.sql)
	}
}

// openTracedPostgres is sql.Open("pgx", dsn) with the tracer installed.
func openTracedPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.Tracer = PGTrace
	if ms := os.Getenv("AXON_PG_TRACE_EXPLAIN"); ms != "" {
		// Plans of statements slower than ms, in PostgreSQL's log
		// (superuser connections only).
		cfg.RuntimeParams["session_preload_libraries"] = "auto_explain"
		cfg.RuntimeParams["auto_explain.log_min_duration"] = ms
	}
	return stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(func(_ context.Context, p stdlib.ShouldPingParams) bool {
		if p.IdleDuration > time.Second {
			PGTrace.add(p.Conn.Config().Database, "ping", "", 0)
			return true
		}
		return false
	})), nil
}
