package stream

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ScanBack reads the Nats-Msg-Id headers of the stream's messages, newest
// first, and calls visit with each (messages without one are skipped)
// until visit returns false, the stream's first message is passed, or
// limit messages were read. It reports false only when limit stopped it.
// A publisher uses it to find out which of its messages already reached
// the log, so that dropping repeats does not depend on the duplicate
// window (internal/outbox).
func (s *Stream) ScanBack(ctx context.Context, limit int, visit func(msgID string) bool) (bool, error) {
	info, err := s.info(ctx)
	if err != nil {
		return false, err
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	if info.State.Msgs == 0 || first == 0 {
		return true, nil
	}
	// Chunks grow from the tail: what is looked for is usually in the
	// last few hundred messages.
	chunk, read := uint64(128), 0
	for hi := last; ; {
		lo := first
		if hi-first+1 > chunk {
			lo = hi - chunk + 1
		}
		ids, err := s.msgIDs(ctx, lo, hi)
		if err != nil {
			return false, err
		}
		for i := len(ids) - 1; i >= 0; i-- {
			if ids[i] != "" && !visit(ids[i]) {
				return true, nil
			}
		}
		read += int(hi - lo + 1)
		if lo == first {
			return true, nil
		}
		if read >= limit {
			return false, nil
		}
		hi, chunk = lo-1, min(2*chunk, 4096)
	}
}

// msgIDs returns the Nats-Msg-Id of each message from lo to hi, oldest
// first ("" for a message without one), read headers only through an
// ephemeral consumer.
func (s *Stream) msgIDs(ctx context.Context, lo, hi uint64) ([]string, error) {
	h := s.handle()
	cons, err := h.CreateConsumer(ctx, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: lo,
		AckPolicy: jetstream.AckNonePolicy, HeadersOnly: true, MemoryStorage: true,
		Replicas: 1, InactiveThreshold: 30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("read back %s: %w", s.name, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = h.DeleteConsumer(dctx, cons.CachedInfo().Name) // else it goes when inactive
		cancel()
	}()
	ids := make([]string, 0, hi-lo+1)
	for uint64(len(ids)) < hi-lo+1 {
		batch, err := cons.FetchNoWait(int(hi-lo+1) - len(ids))
		if err != nil {
			return nil, fmt.Errorf("read back %s: %w", s.name, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("read back %s: %w", s.name, err)
			}
			if meta.Sequence.Stream > hi {
				return ids, nil // deleted messages left gaps: hi is passed
			}
			ids = append(ids, m.Headers().Get(jetstream.MsgIDHeader))
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("read back %s: %w", s.name, err)
		}
		if n == 0 {
			break // nothing more (the tail was deleted meanwhile)
		}
	}
	return ids, nil
}
