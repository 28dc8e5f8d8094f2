package syncapi

import (
	"context"

	"github.com/axon-hs/axon/internal/matrixid"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// keyCountsRead is a device's key counts being read from the keyserver
// while the rest of a /sync is built: they depend on nothing else in the
// response, and the read is a round trip of its own (another database,
// or another process).
type keyCountsRead struct {
	done   chan struct{}
	counts *ksapi.KeyCounts
	err    error
}

// startKeyCounts begins reading dev's key counts (nil without a
// keyserver).
func (s *SyncAPI) startKeyCounts(ctx context.Context, dev *uapi.Device) *keyCountsRead {
	if s.keys == nil {
		return nil
	}
	r := &keyCountsRead{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.counts, r.err = s.keys.KeyCounts(ctx, matrixid.UserID(dev.UserID), dev.ID)
	}()
	return r
}

// wait returns the counts once read.
func (r *keyCountsRead) wait() (*ksapi.KeyCounts, error) {
	<-r.done
	return r.counts, r.err
}
