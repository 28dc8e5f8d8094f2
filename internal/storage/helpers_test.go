package storage

import (
	"database/sql"
	"errors"
	"fmt"
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
		if got := Rows(c.cols, c.rows); got != c.want {
			t.Errorf("Rows(%d, %d) = %q, want %q", c.cols, c.rows, got, c.want)
		}
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
