package syncapi

import (
	"context"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/stream"
)

// deadLetterer records a message of name the consumer gives up on; it
// then counts as applied, so catch-up waits do not wait for it.
func (s *SyncAPI) deadLetterer(name string) stream.DeadLetterFunc {
	record := s.db.DeadLetterer(name)
	if s.replica != nil {
		// Never recorded as given up on because another replica took
		// over the writing.
		record = s.replica.w.DeadLetterer(record)
	}
	return func(ctx context.Context, msg stream.Message, cause error) error {
		if err := record(ctx, msg, cause); err != nil {
			return err
		}
		s.progress.set(name, msg.Seq)
		return nil
	}
}

// progress tracks the last stream sequence each consumer applied, so a
// request can wait until everything acknowledged before it arrived has
// been applied (read-your-writes: a client that got 200 for a send sees
// it in its next /sync).
type progress struct {
	mu      sync.Mutex
	applied map[string]uint64
	changed chan struct{}
	// publish, when set (replicas.go), tells the other replicas.
	publish func(name string, seq uint64)
}

func newProgress() *progress {
	return &progress{applied: map[string]uint64{}, changed: make(chan struct{})}
}

func (p *progress) set(name string, seq uint64) {
	p.apply(name, seq)
	p.mu.Lock()
	publish := p.publish
	p.mu.Unlock()
	if publish != nil {
		publish(name, seq)
	}
}

// apply records seq without publishing it.
func (p *progress) apply(name string, seq uint64) {
	p.mu.Lock()
	if seq > p.applied[name] {
		p.applied[name] = seq
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func (p *progress) get(name string) (uint64, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied[name], p.changed
}

// catchUpTimeout bounds how long a request waits for the consumers.
const catchUpTimeout = 3 * time.Second

// caughtUpStreams are the streams a read waits for (device lists only
// with a keyserver).
var caughtUpStreams = []string{stream.RoomEvents, stream.AccountData, stream.DeviceListUpdates}

// readHeads reads the newest sequence of each of caughtUpStreams (0 for
// one this server does not consume). With the embedded server the heads
// are known in memory (Stream.Head); otherwise the streams are asked at
// once, not one after the other: a request that arrives after a send
// waits for these reads before it can answer.
func (s *SyncAPI) readHeads(ctx context.Context) ([]uint64, error) {
	heads := make([]uint64, len(caughtUpStreams))
	errs := make([]error, len(caughtUpStreams))
	var wg sync.WaitGroup
	for i, name := range caughtUpStreams {
		st := s.streams[name]
		if st == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			heads[i], errs[i] = st.Head(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return heads, nil
}

// knownHeads is readHeads answered from memory (stream.KnownHead), or
// false when a stream's head must be read.
func (s *SyncAPI) knownHeads() ([]uint64, bool) {
	heads := make([]uint64, len(caughtUpStreams))
	for i, name := range caughtUpStreams {
		if st := s.streams[name]; st != nil {
			var ok bool
			if heads[i], ok = st.KnownHead(); !ok {
				return nil, false
			}
		}
	}
	return heads, true
}

// waitCaughtUp waits until the consumed streams have applied every
// message that was in the log when called. The senders were answered
// once their messages were in the log, so that is every write the client
// saw succeed. Concurrent requests share the head reads (headReads).
func (s *SyncAPI) waitCaughtUp(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	heads, err := s.heads.get(ctx)
	if err != nil {
		return
	}
	for i, name := range caughtUpStreams {
		for {
			applied, changed := s.progress.get(name)
			if applied >= heads[i] {
				break
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			case <-s.notif.Closed():
				return
			}
		}
	}
}
