package storage

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestInList(t *testing.T) {
	for _, c := range []struct {
		first, count int
		want         string
	}{{1, 0, ""}, {1, 1, "$1"}, {3, 3, "$3, $4, $5"}, {9, 2, "$9, $10"}} {
		if got := InList(c.first, c.count); got != c.want {
			t.Errorf("InList(%d, %d) = %q, want %q", c.first, c.count, got, c.want)
		}
	}
}

func TestRows(t *testing.T) {
	for _, c := range []struct {
		cols, rows int
		want       string
	}{{2, 0, ""}, {1, 2, "($1), ($2)"}, {3, 2, "($1, $2, $3), ($4, $5, $6)"}} {
		// twice each (the second from the cache)
		for range 2 {
			if got := Rows(c.cols, c.rows); got != c.want {
				t.Errorf("Rows(%d, %d) = %q, want %q", c.cols, c.rows, got, c.want)
			}
		}
	}
	if got := Rows(1, maxCachedRows+1); strings.Count(got, "$") != maxCachedRows+1 || !strings.HasSuffix(got, "($65)") {
		t.Errorf("Rows(1, %d) = %q", maxCachedRows+1, got)
	}
	// A cached shape costs no allocation.
	Rows(20, 16)
	if n := testing.AllocsPerRun(10, func() { Rows(20, 16) }); n != 0 {
		t.Errorf("Rows(20, 16) from the cache: %v allocs", n)
	}
}

func TestNotFound(t *testing.T) {
	if err := NotFound(fmt.Errorf("scan: %w", sql.ErrNoRows)); err != ErrNotFound {
		t.Fatalf("no rows: got %v", err)
	}
	other := errors.New("disk on fire")
	if err := NotFound(other); err != other {
		t.Fatalf("other error changed: %v", err)
	}
	if NotFound(nil) != nil {
		t.Fatal("nil changed")
	}
}

func TestWithApplicationName(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"postgres://u@h/db", "postgres://u@h/db?application_name=axon-syncapi"},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable&application_name=axon-syncapi"},
		{"postgres://u@h/db?application_name=mine", "postgres://u@h/db?application_name=mine"},
		{"sqlite", "sqlite"},
	} {
		if got := WithApplicationName(c.dsn, "axon-syncapi"); got != c.want {
			t.Errorf("WithApplicationName(%q) = %q, want %q", c.dsn, got, c.want)
		}
	}
}
