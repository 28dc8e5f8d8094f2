package syncapi

import (
	"sync"

	"github.com/axon-hs/axon/internal/httputil"
)

// maxLongPollsPerUser caps one user's concurrent waiting /sync and
// sliding sync requests (each device normally has one): past it, a
// client looping on many polls gets 429 instead of pinning goroutines
// and timers without bound.
const maxLongPollsPerUser = 100

// pollRetryMs is the retry hint of that 429: one of the user's other
// polls returns as soon as anything happens for them, freeing a slot.
const pollRetryMs = 1000

// pollSlots counts each user's waiting long-polls.
type pollSlots struct {
	mu   sync.Mutex
	open map[string]int
}

// take reserves a long-poll slot for userID; release gives it back. A
// nil release means the user is at the cap and got resp (429).
func (p *pollSlots) take(userID string) (release func(), resp *httputil.JSONResponse) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		p.open = map[string]int{}
	}
	if p.open[userID] >= maxLongPollsPerUser {
		r := httputil.LimitExceeded(pollRetryMs)
		return nil, &r
	}
	p.open[userID]++
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.open[userID]--; p.open[userID] <= 0 {
			delete(p.open, userID)
		}
	}, nil
}
