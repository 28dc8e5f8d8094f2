package api

import (
	"context"
	"time"

	"github.com/axon-hs/axon/internal/rpc"
)

// InputAttemptTimeout bounds one attempt of idempotent input sent to
// another process: when the roomserver process holding the request dies,
// the caller tries again after this long instead of waiting out the whole
// call (30 s), and the retry reaches a live process (docs/scaling.md).
// It bounds only the wait: the serving process keeps the caller's whole
// deadline, so a slow attempt in a live process finishes, and the repeat,
// queued behind it in the room, answers with its result.
const InputAttemptTimeout = 8 * time.Second

// RetryingClient is the RoomserverAPIClient that polylith callers use: it
// sends idempotent input again when an attempt is unanswered.
type RetryingClient struct {
	*RoomserverAPIClient
	// Attempt is one attempt's bound; 0 means InputAttemptTimeout.
	Attempt time.Duration
}

// InputRoomEvents sends req, again while attempts go unanswered and the
// caller's deadline (or rpc.DefaultTimeout) allows, when every event in it
// is idempotent (Idempotent); other input is sent once.
func (c *RetryingClient) InputRoomEvents(ctx context.Context, req *InputRoomEventsRequest) (*InputRoomEventsResponse, error) {
	if !req.Idempotent() {
		return c.RoomserverAPIClient.InputRoomEvents(ctx, req)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rpc.DefaultTimeout)
		defer cancel()
	}
	attempt := c.Attempt
	if attempt <= 0 {
		attempt = InputAttemptTimeout
	}
	backoff := 50 * time.Millisecond
	for {
		var resp *InputRoomEventsResponse
		err := c.C.CallAttempt(ctx, attempt, "InputRoomEvents", []any{req}, &resp)
		if err == nil || !rpc.Unanswered(err) || ctx.Err() != nil {
			return resp, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
		backoff = min(backoff*2, time.Second)
	}
}

// Idempotent reports whether sending req twice has the effect of sending
// it once: every event is a PDU with its own ID (stored once) or a local
// event with a client transaction ID (the roomserver answers a repeat with
// the first event). A create, a state change or a join without one could
// happen twice.
func (req *InputRoomEventsRequest) Idempotent() bool {
	for i := range req.Events {
		in := &req.Events[i]
		if in.Event == nil && in.TransactionID == nil {
			return false
		}
	}
	return len(req.Events) > 0
}
