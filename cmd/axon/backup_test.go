package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/server/testserver"
)

// TestBackupWhileRunning: `axon backup` against a running server's data
// dir copies every component database; the copy of the userapi database
// holds the registered account.
func TestBackupWhileRunning(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	inst.Register("alice", "password1")
	cfgPath := filepath.Join(t.TempDir(), "axon.yaml")
	must(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf("server_name: %q\ndata_dir: %q\n", inst.Cfg.ServerName, inst.Cfg.DataDir)), 0o600))
	dest := filepath.Join(t.TempDir(), "bk")
	var out bytes.Buffer
	if err := backupCmd(context.Background(), []string{"--config", cfgPath, "--out", dest}, &out); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	for _, name := range []string{"userapi.db", "roomserver.db", "syncapi.db", "signing.key"} {
		if _, err := os.Stat(filepath.Join(dest, name)); err != nil {
			t.Fatalf("%s missing from the backup: %v\n%s", name, err, out.String())
		}
	}
	db, err := storage.Open(context.Background(), filepath.Join(dest, "userapi.db"))
	must(t, err)
	defer db.Close()
	var n int
	must(t, db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM userapi_accounts WHERE localpart = 'alice'`).Scan(&n))
	if n != 1 {
		t.Fatalf("alice in the backup: %d rows", n)
	}
	if err := backupCmd(context.Background(), []string{"--config", cfgPath, "--out", dest}, &out); err == nil {
		t.Fatal("backup into an existing directory succeeded")
	}
}
