package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// BackupSQLite writes a consistent copy of the SQLite database at src to
// dst (which must not exist) with VACUUM INTO: it reads one snapshot of
// the database, so it is safe while the server writes to it, and the copy
// is compacted. dst is written to a temporary name and renamed when done.
func BackupSQLite(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s already exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	db, err := sql.Open("sqlite3", "file:"+src+"?mode=ro&_busy_timeout=30000")
	if err != nil {
		return err
	}
	defer db.Close()
	tmp := dst + ".partial"
	_ = os.Remove(tmp)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("back up %s: %w", src, err)
	}
	return os.Rename(tmp, dst)
}
