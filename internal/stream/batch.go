package stream

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/axon-hs/axon/internal/linger"
)

// BatchHandler applies consecutive messages, in order, together — one
// database transaction for all of them, recording the last msgs' Seq in
// it. An error must leave nothing applied: the messages are then applied
// one at a time (a slice of one), and one that keeps failing is
// dead-lettered (see deadletter.go).
type BatchHandler func(ctx context.Context, msgs []Message) error

// BatchOptions bound a batch.
type BatchOptions struct {
	// MaxMessages per batch (default 64).
	MaxMessages int
	// MaxWait is how long to wait for more messages after the first.
	// 0 takes only what is already queued, so a lone message is applied
	// at once; batches form on their own while the previous one is applied.
	MaxWait time.Duration
	// BusyWait is how long, at most, to wait for more messages after the
	// first while they arrive often and batches already hold more than
	// one (internal/linger): under load a batch then carries several
	// messages' worth of fixed cost. At a low rate nothing waits, and
	// the wait ends as soon as messages stop coming. 0 never waits.
	BusyWait time.Duration
	// DeadLetter records a message given up on (required: no consumer
	// may be stopped by one bad message).
	DeadLetter DeadLetterFunc
	// MaxAttempts per message before it is dead-lettered (default
	// DefaultMaxAttempts); RetryBackoff is the first wait between them.
	MaxAttempts  int
	RetryBackoff time.Duration
	// ResetCheckEvery is how often the stream is checked for a reset
	// (default 2 s; see reset.go).
	ResetCheckEvery time.Duration
}

// ConsumeBatch is Consume for a handler that applies several messages
// per transaction: messages are read ahead into a buffer while a batch is
// applied, and the next batch takes whatever is buffered.
func (s *Stream) ConsumeBatch(ctx context.Context, consumerName string, afterSeq uint64, opts BatchOptions, h BatchHandler) (<-chan struct{}, error) {
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = 64
	}
	if opts.DeadLetter == nil {
		return nil, fmt.Errorf("consume %s: consumer %s has no dead-letter store", s.name, consumerName)
	}
	log := slog.With("stream", s.name, "consumer", consumerName)
	rd := &reader{s: s, consumer: consumerName, log: log, queue: make(chan Message, 2*opts.MaxMessages),
		checkEvery: cmp.Or(opts.ResetCheckEvery, defaultResetCheckEvery)}
	it, epoch, err := rd.start(ctx, afterSeq)
	if err != nil {
		return nil, err
	}
	app := &applier{stream: s.short, consumer: consumerName, log: log, h: h, deadLetter: opts.DeadLetter,
		maxAttempts: cmp.Or(opts.MaxAttempts, DefaultMaxAttempts), backoff: cmp.Or(opts.RetryBackoff, defaultRetryBackoff)}
	queue := rd.queue
	readerDone := make(chan struct{})
	go func() { // reader: keeps the queue full while a batch is applied
		defer close(readerDone)
		rd.run(ctx, it, epoch)
	}()
	slot := s.bus.board(s.name).join(rd.delivered.Load())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// After the reader (which samples the lag) is done: a stopped
		// consumer reports nothing.
		defer consumerLag.DeleteLabelValues(s.short, consumerName)
		defer func() { <-readerDone }()
		defer slot.leave()
		batch := make([]Message, 0, opts.MaxMessages)
		var load linger.Load
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		for {
			select {
			case m := <-queue:
				batch = append(batch[:0], m)
			case <-ctx.Done():
				return
			}
			start := time.Now()
			batch = fillBatch(ctx, queue, batch, opts)
			if opts.BusyWait > 0 {
				batch, _ = linger.Gather(queue, batch, opts.MaxMessages, &load, start, opts.BusyWait, timer, ctx.Done())
				load.Taken(start, len(batch))
			}
			if !app.apply(ctx, batch) {
				return
			}
			slot.set(batch[len(batch)-1].Seq)
			rd.applied.Store(batch[len(batch)-1].Seq)
		}
	}()
	return done, nil
}

// fillBatch adds queued messages to batch, waiting up to opts.MaxWait.
func fillBatch(ctx context.Context, queue <-chan Message, batch []Message, opts BatchOptions) []Message {
	var deadline <-chan time.Time
	if opts.MaxWait > 0 {
		t := time.NewTimer(opts.MaxWait)
		defer t.Stop()
		deadline = t.C
	}
	for len(batch) < opts.MaxMessages {
		if deadline == nil {
			select {
			case m := <-queue:
				batch = append(batch, m)
				continue
			default:
				return batch
			}
		}
		select {
		case m := <-queue:
			batch = append(batch, m)
		case <-deadline:
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}
