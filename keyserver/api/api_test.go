package api_test

import (
	"testing"

	"github.com/axon-hs/axon/internal/rpc/gen/gentest"
)

func TestRPCClientUpToDate(t *testing.T) {
	gentest.CheckUpToDate(t, ".", "KeyserverAPI")
}
