package api

import (
	"errors"

	"github.com/axon-hs/axon/internal/rpc"
)

// ErrNotFound: no such report.
var ErrNotFound = errors.New("report not found")

func init() {
	rpc.RegisterSentinel("reports.not_found", ErrNotFound)
}
