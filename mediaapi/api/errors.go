package api

import (
	"errors"

	"github.com/axon-hs/axon/internal/rpc"
)

// Errors callers answer differently (match with errors.Is).
var (
	ErrNotFound     = errors.New("media not found")
	ErrInvalidOrder = errors.New("unknown order_by for media")
)

func init() {
	rpc.RegisterSentinel("mediaapi.not_found", ErrNotFound)
	rpc.RegisterSentinel("mediaapi.invalid_order", ErrInvalidOrder)
}
