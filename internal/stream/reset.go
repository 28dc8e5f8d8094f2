package stream

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Stream resets. An external NATS that loses its store (or an operator
// deleting a stream) brings the stream back empty, numbering from 1
// again. Positions stored by consumers then point past its end, and
// resuming "after" them would silently skip every new message. So:
//
//   - publishing to a stream that no longer exists creates it again, and
//     an outbox that keeps published messages a while (every component's,
//     for outbox.DefaultRetain) publishes them again first;
//   - a consumer notices a reset — at start, its position beyond the
//     stream's last message; while running, the stream gone, recreated
//     (a new creation time) or its last sequence below what was already
//     delivered — logs it, counts it in axon_stream_resets_total and
//     consumes the new stream from its first message.
//
// What a producer without such retention had published and no consumer
// had read yet is gone with the store.

const defaultResetCheckEvery = 2 * time.Second

var streamResets = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "axon",
	Name:      "stream_resets_total",
	Help:      "Times a consumer found its stream reset (store lost, stream recreated) and started again from the new stream's first message.",
}, []string{"stream", "consumer"})

// reader feeds a consumer's queue from the stream, across resets.
type reader struct {
	s          *Stream
	consumer   string
	log        *slog.Logger
	queue      chan Message
	checkEvery time.Duration
	delivered  atomic.Uint64 // last sequence queued
	applied    atomic.Uint64 // last sequence the handler applied (lag)
}

// start opens the stream after afterSeq, or from its start if afterSeq
// is beyond its end (a reset while this consumer was stopped).
func (r *reader) start(ctx context.Context, afterSeq uint64) (jetstream.MessagesContext, time.Time, error) {
	info, err := r.s.info(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	if afterSeq > info.State.LastSeq {
		r.reset("position beyond the stream's last message", afterSeq, info.State.LastSeq)
		afterSeq = 0
	}
	it, err := r.s.open(ctx, afterSeq)
	if err != nil {
		return nil, time.Time{}, err
	}
	r.delivered.Store(afterSeq)
	r.applied.Store(afterSeq)
	r.observeLag(info.State.LastSeq)
	return it, info.Created, nil
}

// consumerLag is how many messages each consumer is behind its stream's
// last one, sampled with the stream state the reset check reads anyway
// (every BatchOptions.ResetCheckEvery, 2 s by default): the position
// applied, not what JetStream delivered (NumPending would not count the
// messages read ahead into the consumer's buffer).
var consumerLag = promauto.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: "axon",
	Name:      "stream_consumer_lag_messages",
	Help:      "Messages a consumer has yet to apply: the stream's last sequence minus the consumer's applied position (sampled every 2 s).",
}, []string{"stream", "consumer"})

func (r *reader) observeLag(last uint64) {
	applied := r.applied.Load()
	lag := 0.0
	if last > applied {
		lag = float64(last - applied)
	}
	consumerLag.WithLabelValues(r.s.short, r.consumer).Set(lag)
}

func (r *reader) reset(why string, position, last uint64) {
	streamResets.WithLabelValues(r.s.short, r.consumer).Inc()
	r.log.Error("stream reset detected: consuming the new stream from its first message", "reason", why,
		"position", position, "stream_last_seq", last)
}

// run reads until ctx ends, reopening the stream after a reset.
func (r *reader) run(ctx context.Context, it jetstream.MessagesContext, epoch time.Time) {
	for {
		resetTo := make(chan time.Time, 1)
		ended := make(chan struct{})
		go r.watch(ctx, it, epoch, resetTo, ended)
		r.read(ctx, it)
		close(ended)
		if ctx.Err() != nil {
			return
		}
		after := r.delivered.Load()
		select {
		case epoch = <-resetTo:
			after = 0
		default:
		}
		for {
			var err error
			if it, err = r.s.open(ctx, after); err == nil {
				r.delivered.Store(after)
				break
			}
			r.log.Warn("reopening stream; retrying", "error", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
		}
	}
}

// read queues messages until the iterator stops.
func (r *reader) read(ctx context.Context, it jetstream.MessagesContext) {
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			r.log.Warn("stream read error", "error", err)
			continue
		}
		meta, err := m.Metadata()
		if err != nil {
			r.log.Error("message without metadata", "error", err)
			continue
		}
		select {
		case r.queue <- Message{Seq: meta.Sequence.Stream, Data: m.Data(), Headers: m.Headers(), Time: meta.Timestamp}:
			r.delivered.Store(meta.Sequence.Stream)
		case <-ctx.Done():
			return
		}
	}
}

// watch stops it when ctx ends or the stream was reset (sending the new
// stream's creation time on resetTo).
func (r *reader) watch(ctx context.Context, it jetstream.MessagesContext, epoch time.Time, resetTo chan<- time.Time, ended <-chan struct{}) {
	defer it.Stop()
	t := time.NewTicker(r.checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ended:
			return
		case <-t.C:
		}
		// Read before asking: everything queued by then is on the stream
		// the answer describes, unless the stream was reset.
		delivered := r.delivered.Load()
		info, err := r.s.info(ctx)
		if err != nil {
			continue // NATS unreachable: nothing to tell yet
		}
		switch {
		case !info.Created.Equal(epoch):
			r.reset("stream recreated", delivered, info.State.LastSeq)
		case info.State.LastSeq < delivered:
			r.reset("stream sequence went backwards", delivered, info.State.LastSeq)
		default:
			r.observeLag(info.State.LastSeq)
			continue
		}
		resetTo <- info.Created
		return
	}
}

// info reads the stream's state. A stream that is gone is left to its
// producers to create again (restore), so they notice the loss and can
// replay what the lost store held.
func (s *Stream) info(ctx context.Context) (*jetstream.StreamInfo, error) {
	return s.handle().Info(ctx)
}

// open starts an ordered consumer after afterSeq (0: from the start).
func (s *Stream) open(ctx context.Context, afterSeq uint64) (jetstream.MessagesContext, error) {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if afterSeq > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = afterSeq + 1
	}
	cons, err := s.handle().OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return cons.Messages(jetstream.PullMaxMessages(256))
}

// recreate creates the stream again from its config (after a reset).
func (s *Stream) recreate(ctx context.Context) error {
	js, err := s.bus.js.CreateOrUpdateStream(ctx, s.cfg)
	if err != nil {
		return err
	}
	s.js.Store(&js)
	return nil
}

func (s *Stream) handle() jetstream.Stream { return *s.js.Load() }

// restore creates the stream again after it was lost, counting the loss
// for producers that replay (Resets).
func (s *Stream) restore(ctx context.Context) error {
	if err := s.recreate(ctx); err != nil {
		return err
	}
	b := s.bus.board(s.name)
	b.renumbered()
	b.mu.Lock()
	b.resets++
	b.mu.Unlock()
	return nil
}

// Resets counts the times this process created the stream again after it
// was lost. An outbox that keeps published messages republishes them when
// it changes (internal/outbox, Config.Retain).
func (s *Stream) Resets() uint64 {
	b := s.bus.board(s.name)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resets
}

// streamMissing: did a publish fail because no stream takes the subject?
func streamMissing(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrStreamNotFound)
}
