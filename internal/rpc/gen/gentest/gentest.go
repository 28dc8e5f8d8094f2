// Package gentest lets each API package test that its committed generated
// RPC client matches its interface.
package gentest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/axon-hs/axon/internal/rpc/gen"
)

// CheckUpToDate regenerates iface's client from dir and compares it with
// the committed file.
func CheckUpToDate(t *testing.T, dir, iface string) {
	t.Helper()
	want, err := gen.Generate(dir, iface)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, gen.FileName(iface)))
	if err != nil {
		t.Fatalf("generated client missing: %v (run go generate)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s is stale: run `go generate ./...`", filepath.Join(dir, gen.FileName(iface)))
	}
}
