package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/storage"
)

// backupCmd copies every SQLite database of the data dir (consistently,
// while the server runs) and the signing key into a new directory.
// PostgreSQL databases are backed up with pg_dump; the NATS store needs
// no backup for consistency (consumers keep their positions in their
// databases) and media files are copied as files.
func backupCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	configPath := fs.String("config", "axon.yaml", "path to the config file")
	dest := fs.String("out", "", "directory to create for the backup (default backup-YYYYMMDD-HHMMSS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	if *dest == "" {
		*dest = "backup-" + time.Now().UTC().Format("20060102-150405")
	}
	if err := os.Mkdir(*dest, 0o700); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	dbs, err := filepath.Glob(filepath.Join(cfg.DataDir, "*.db"))
	if err != nil {
		return err
	}
	for _, src := range dbs {
		dst := filepath.Join(*dest, filepath.Base(src))
		if err := storage.BackupSQLite(ctx, src, dst); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s -> %s\n", src, dst)
	}
	if storage.IsPostgres(cfg.Database.Default) {
		fmt.Fprintln(out, "database.default is PostgreSQL: back it up with pg_dump (see docs/operations.md)")
	}
	key := cfg.ResolvePath(cfg.SigningKeyPath)
	if data, err := os.ReadFile(key); err == nil {
		dst := filepath.Join(*dest, filepath.Base(key))
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s -> %s\n", key, dst)
	}
	fmt.Fprintf(out, "backup in %s (media files under %s are not copied: copy them as files)\n", *dest, cfg.ResolvePath(cfg.Media.BasePath))
	return nil
}
