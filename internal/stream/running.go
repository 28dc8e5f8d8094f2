package stream

import (
	"context"
	"sync"
)

// Running is a set of consumers started together and stopped together,
// e.g. while this process holds a writer lease.
type Running struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	dones  []<-chan struct{}
}

// Start calls start with a context that Stop cancels; start returns the
// done channels of the consumers it started (also those started before
// an error, which are then stopped again).
func (r *Running) Start(start func(runCtx context.Context) ([]<-chan struct{}, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	runCtx, stop := context.WithCancel(context.Background())
	dones, err := start(runCtx)
	if err != nil {
		stop()
		for _, d := range dones {
			<-d
		}
		return err
	}
	r.cancel, r.dones = stop, dones
	return nil
}

// Stop cancels the consumers and waits for them to end; false when none
// were running.
func (r *Running) Stop() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel == nil {
		return false
	}
	r.cancel()
	for _, d := range r.dones {
		<-d
	}
	r.cancel, r.dones = nil, nil
	return true
}
