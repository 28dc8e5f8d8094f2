package api

import (
	"testing"

	"github.com/axon-hs/axon/internal/rpc/gen/gentest"
)

// TestRPCClientUpToDate: the polylith client must match the interface;
// run "go generate ./..." after changing it.
func TestRPCClientUpToDate(t *testing.T) { gentest.CheckUpToDate(t, ".", "ReportsAPI") }
