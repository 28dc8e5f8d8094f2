package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrSchemaTooNew: the database was migrated by a newer Axon than this
// binary (a downgrade). Running against it could corrupt data, so the
// server refuses to start.
var ErrSchemaTooNew = errors.New("database schema is newer than this Axon")

// Migration is one versioned step of a component's schema. SQL is written
// once for both engines using these macros:
//
//	{{SERIAL}}  an auto-incrementing BIGINT primary key column type
//	{{BLOB}}    binary data (BLOB / BYTEA)
//
// Everything else (TEXT, BIGINT, BOOLEAN, ON CONFLICT, RETURNING) is
// spelled the same in both.
type Migration struct {
	Version int
	Name    string
	SQL     string
	// Postgres overrides SQL on PostgreSQL when the engines need different
	// statements (rare; prefer the macros).
	Postgres string
}

var macros = map[Dialect]*strings.Replacer{
	SQLite:   strings.NewReplacer("{{SERIAL}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{BLOB}}", "BLOB"),
	Postgres: strings.NewReplacer("{{SERIAL}}", "BIGSERIAL PRIMARY KEY", "{{BLOB}}", "BYTEA"),
}

// Expand applies the schema macros for this dialect.
func (d Dialect) Expand(sqlText string) string { return macros[d].Replace(sqlText) }

// Migrate brings component's schema up to the newest migration. Each
// migration runs in its own transaction together with the record that it
// ran, so a crash mid-way leaves a schema that the next start completes.
func (db *DB) Migrate(ctx context.Context, component string, migrations []Migration) error {
	_, err := db.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS axon_schema_versions (
		component TEXT NOT NULL,
		version BIGINT NOT NULL,
		name TEXT NOT NULL,
		PRIMARY KEY (component, version))`)
	if err != nil {
		return fmt.Errorf("%s: create schema table: %w", component, err)
	}
	if db.Dialect == Postgres {
		// Several processes (polylith) may start at once: serialise the
		// migrations of one component across them.
		return db.WriteTx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "axon-migrate-"+component); err != nil {
				return err
			}
			return db.migrateIn(ctx, tx, component, migrations)
		})
	}
	return db.WriteTx(ctx, func(tx *Tx) error { return db.migrateIn(ctx, tx, component, migrations) })
}

func (db *DB) migrateIn(ctx context.Context, tx *Tx, component string, migrations []Migration) error {
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM axon_schema_versions WHERE component = $1`, component).Scan(&current); err != nil {
		return fmt.Errorf("%s: read schema version: %w", component, err)
	}
	if known := newestVersion(migrations); current > known {
		return fmt.Errorf("%w: the %s database is at schema version %d, this binary knows versions up to %d; "+
			"it was upgraded by a newer Axon: run that version again, or restore the backup taken before the upgrade",
			ErrSchemaTooNew, component, current, known)
	}
	for _, m := range migrations {
		if m.Version <= current {
			continue
		}
		text := m.SQL
		if db.Dialect == Postgres && m.Postgres != "" {
			text = m.Postgres
		}
		for _, stmt := range splitStatements(db.Dialect.Expand(text)) {
			// As written (no placeholder rewriting), inside the transaction.
			if err := tx.pgBegun(ctx); err != nil {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: migration %d (%s): %w", component, m.Version, m.Name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO axon_schema_versions (component, version, name) VALUES ($1, $2, $3)`, component, m.Version, m.Name); err != nil {
			return fmt.Errorf("%s: record migration %d: %w", component, m.Version, err)
		}
	}
	return nil
}

func newestVersion(migrations []Migration) int {
	newest := 0
	for _, m := range migrations {
		newest = max(newest, m.Version)
	}
	return newest
}

// splitStatements splits a migration on semicolons that end a line.
// Migrations must not put ";\n" inside string literals.
func splitStatements(text string) []string {
	var out []string
	for _, part := range strings.Split(text, ";\n") {
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}
