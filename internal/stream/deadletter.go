package stream

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// DeadLetterFunc records a message its consumer gave up on, with the
// error, in the consumer's own database — and moves the consumer's
// position past it in the same transaction. An error means the record
// was not written; the message is then tried again.
type DeadLetterFunc func(ctx context.Context, msg Message, cause error) error

// DefaultMaxAttempts is how often a message is tried on its own before it
// is dead-lettered (about 6 s with the default backoff).
const DefaultMaxAttempts = 8

// defaultRetryBackoff is the first wait between attempts; it doubles up
// to maxRetryBackoff.
const (
	defaultRetryBackoff = 50 * time.Millisecond
	maxRetryBackoff     = 10 * time.Second
)

var deadLettered = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "axon",
	Name:      "stream_dead_letters_total",
	Help:      "Stream messages a consumer gave up on and recorded in its dead-letter table.",
}, []string{"stream", "consumer"})

type poisonError struct{ err error }

func (p poisonError) Error() string { return p.err.Error() }
func (p poisonError) Unwrap() error { return p.err }

// Poison marks err as one that retrying cannot cure (an undecodable
// message, a value the database refuses): the message is dead-lettered at
// once instead of after DefaultMaxAttempts.
func Poison(err error) error {
	if err == nil {
		return nil
	}
	return poisonError{err}
}

// IsPoison reports whether err was marked with Poison.
func IsPoison(err error) bool {
	var p poisonError
	return errors.As(err, &p)
}

// unavailable: did the handler fail because another component or NATS
// could not be reached (an RPC in a polylith)? That says nothing about
// the message, so it is retried without counting towards dead-lettering.
func unavailable(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, context.DeadlineExceeded)
}

// applier applies batches for one consumer: a failed batch is retried
// message by message, so one poison message is found and dead-lettered
// while its neighbours are applied.
type applier struct {
	stream, consumer string
	log              *slog.Logger
	h                BatchHandler
	deadLetter       DeadLetterFunc
	maxAttempts      int
	backoff          time.Duration
}

// apply applies batch; false means ctx ended first.
func (a *applier) apply(ctx context.Context, batch []Message) bool {
	if len(batch) > 1 {
		err := a.h(ctx, batch)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		a.log.Warn("applying stream messages failed; applying them one by one", "first_seq", batch[0].Seq, "last_seq", batch[len(batch)-1].Seq, "error", err)
	}
	for i := range batch {
		if !a.applyOne(ctx, batch[i:i+1]) {
			return false
		}
	}
	return true
}

// applyOne tries one message up to maxAttempts times, then dead-letters
// it. If even the dead-letter record cannot be written the trouble is the
// database, not the message: it starts over.
func (a *applier) applyOne(ctx context.Context, one []Message) bool {
	backoff := a.backoff
	attempts := 0
	for {
		err := a.h(ctx, one)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if !unavailable(err) {
			attempts++
		}
		if IsPoison(err) || attempts >= a.maxAttempts {
			dlErr := a.deadLetter(ctx, one[0], err)
			if dlErr == nil {
				deadLettered.WithLabelValues(a.stream, a.consumer).Inc()
				a.log.Error("stream message dead-lettered: giving up on it and going on", "seq", one[0].Seq, "attempts", attempts, "error", err)
				return true
			}
			if ctx.Err() != nil {
				return false
			}
			a.log.Error("recording dead letter failed; retrying the message", "seq", one[0].Seq, "error", err, "dead_letter_error", dlErr)
			attempts = 0
		} else {
			a.log.Error("applying stream message failed; retrying", "seq", one[0].Seq, "attempt", attempts, "error", err, "retry_in", backoff)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return false
		}
		backoff = min(backoff*2, maxRetryBackoff)
	}
}
