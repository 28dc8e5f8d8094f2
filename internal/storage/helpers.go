package storage

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
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

// PaddedArgs returns ids as the arguments of an IN list of at least
// least entries, padded to a power of two by repeating the last ID: the
// list then takes one of a few shapes, each kept prepared.
func PaddedArgs(ids []string, least int) []any {
	n := least
	for n < len(ids) {
		n *= 2
	}
	args := make([]any, n)
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return args
}
