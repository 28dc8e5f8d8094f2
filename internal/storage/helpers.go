package storage

import (
	"database/sql"
	"errors"
	"github.com/jackc/pgx/v5"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// ErrNotFound is every storage package's "no such row"; match it with
// errors.Is (storage methods may wrap it with detail).
var ErrNotFound = errors.New("not found")

// NotFound maps sql.ErrNoRows to ErrNotFound and returns other errors
// unchanged: return storage.NotFound(row.Scan(&v)).
func NotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// InList returns "$first, $first+1, …" with count placeholders, for an
// IN (...) clause whose arguments start at position first.
func InList(first, count int) string {
	var b strings.Builder
	for i := range count {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + i))
	}
	return b.String()
}

// Rows returns "($1, …, $cols), ($cols+1, …), …" with rows groups of
// cols placeholders: the VALUES list of a multi-row insert, one
// statement instead of a round trip (and a statement's overhead) per row.
func Rows(cols, rows int) string {
	if rows > maxCachedRows {
		return buildRows(cols, rows)
	}
	key := [2]int{cols, rows}
	if s, ok := rowsCache.Load(key); ok {
		return s.(string)
	}
	s := buildRows(cols, rows)
	rowsCache.Store(key, s)
	return s
}

// rowsCache keeps the VALUES lists of the shapes hot inserts take (runs
// of up to 64 rows, storage.Runs): building one cost an allocation per
// placeholder, for every batch. The shapes are few (a table's column
// count by a row count up to maxCachedRows).
var rowsCache sync.Map

const maxCachedRows = 64

func buildRows(cols, rows int) string {
	groups := make([]string, rows)
	for i := range groups {
		groups[i] = "(" + InList(i*cols+1, cols) + ")"
	}
	return strings.Join(groups, ", ")
}

// Runs splits n rows into runs of a power of two, at most max (itself a
// power of two), and calls fn with each run's bounds in order. A
// multi-row statement then takes one of log2(max)+1 shapes, so each
// shape stays among the connection's prepared statements instead of a
// new statement for every row count.
func Runs(n, max int, fn func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		size := max
		for size > n-lo {
			size /= 2
		}
		if err := fn(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}

// InLookup returns the IN list ($1, …) and the arguments of a look-up
// by ids through an index. On SQLite the list is padded to a power of
// two (at least least entries, repeating the last ID) so it takes one of
// a few shapes, each kept prepared. On PostgreSQL the statement is sent
// unprepared and planned with its values on every call: a prepared
// statement's generic plan, chosen while the table was small, scans the
// whole table ever after (a consumer batch's look-up took 15 ms at
// 8,000 events, and would grow with the table).
func (db *DB) InLookup(ids []string, least int) (in string, args []any) {
	if db.Dialect == Postgres {
		args = make([]any, 1, len(ids)+1)
		args[0] = pgx.QueryExecModeExec
		for _, id := range ids {
			args = append(args, id)
		}
		return InList(1, len(ids)), args
	}
	n := least
	for n < len(ids) {
		n *= 2
	}
	args = make([]any, n)
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return InList(1, n), args
}

// WithApplicationName names the connections of a PostgreSQL DSN (URL
// form) after name, unless the DSN names them already: pg_stat_activity
// then tells which component holds a connection and what it runs.
// Other DSNs are returned unchanged.
func WithApplicationName(dsn, name string) string {
	if !IsPostgres(dsn) || strings.Contains(dsn, "application_name=") {
		return dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "application_name=" + url.QueryEscape(name)
}
