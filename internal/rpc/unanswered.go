package rpc

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
)

// Unanswered reports a call that got no answer: nothing serves the
// subject, or the attempt's deadline passed with no reply (the serving
// process may have died with the request). The call may or may not have
// taken effect, so only an idempotent call should be sent again.
func Unanswered(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrTimeout)
}
