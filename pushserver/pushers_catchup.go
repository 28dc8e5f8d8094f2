package pushserver

import (
	"context"
	"time"

	"github.com/axon-hs/axon/internal/stream"
)

// devicesCatchUpWait bounds how long GET /pushers waits for the
// user_devices consumer.
const devicesCatchUpWait = 2 * time.Second

// devicesCatchUpPoll is how often the wait reads the consumer's stored
// position (stored by whichever process consumes, so replicas see it).
const devicesCatchUpPoll = 20 * time.Millisecond

// waitDevicesApplied waits until the user_devices consumer has applied
// every message in the log when called: the pushers of a device deleted
// before the request (a logout, or a password change signing the other
// devices out) are then gone from the answer.
func (p *PushServer) waitDevicesApplied(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, devicesCatchUpWait)
	defer cancel()
	st, err := p.base.Stream(ctx, stream.UserDevices)
	if err != nil {
		return
	}
	head, err := st.LastSeq(ctx)
	if err != nil || head == 0 {
		return
	}
	tick := time.NewTicker(devicesCatchUpPoll)
	defer tick.Stop()
	for {
		if seq, err := p.db.ConsumerSeq(ctx, stream.UserDevices); err != nil || seq >= head {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
