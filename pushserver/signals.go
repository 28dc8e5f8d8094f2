package pushserver

import (
	"github.com/axon-hs/axon/pushserver/storage"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

// signalMsg is a change delivery must hear of: syncapi's wake-ups and
// pushers set or deleted through the routes. With syncapi replicas it
// travels over NATS to the process delivering (replicas.go).
type signalMsg struct {
	// Notified users have new notifications.
	Notified []string `json:"notified,omitempty"`
	// Listing marks the Wakeups.PusherUsers listing Notified came from
	// (pushers added after it are woken too); nil when all were named.
	// Not sent between replicas: there syncapi names every notified user.
	Listing *uint64 `json:"-"`
	// Read: the user read some (a counts-only notify updates the badge).
	Read string `json:"read,omitempty"`
	// Pusher was set or deleted (the deliverer reads which from the
	// database unless Set carries it in this process).
	Pusher *storage.Key `json:"pusher,omitempty"`
	// CatchUp: wake-ups were dropped (a syncapi replica starting); every
	// pusher reads what it has not delivered.
	CatchUp bool            `json:"catch_up,omitempty"`
	Set     *storage.Pusher `json:"-"`
}

// signal hands m to delivery, here or in the process delivering.
func (p *PushServer) signal(m signalMsg) {
	if p.replica != nil {
		p.replica.publish(m)
		return
	}
	p.apply(m, m.Set)
}

// apply tells this process's delivery of m; set is the pusher m.Pusher
// now is (nil: deleted).
func (p *PushServer) apply(m signalMsg, set *storage.Pusher) {
	del := p.del.Load()
	if del == nil {
		return
	}
	if len(m.Notified) > 0 || m.Listing != nil {
		listed := syncapi.NoPusherListing
		if m.Listing != nil {
			listed = *m.Listing
		}
		del.wakeNotified(m.Notified, listed)
	}
	if m.CatchUp {
		del.wakeAll()
	}
	if m.Read != "" {
		del.wake(m.Read, true)
	}
	if m.Pusher != nil {
		if set != nil {
			del.add(*set)
		} else {
			del.remove(*m.Pusher)
		}
	}
}
