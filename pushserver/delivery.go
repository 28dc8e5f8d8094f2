package pushserver

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/axon-hs/axon/pushserver/storage"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

const (
	// deliveryBatch is how many notifications one read fetches.
	deliveryBatch = 50
	// giveUpAfter: a notification a gateway keeps refusing this long is
	// skipped, so one poisoned notification cannot stop a pusher for good.
	giveUpAfter = 24 * time.Hour
)

// deliverer runs one goroutine per pusher that has work; it exits when
// the pusher has caught up.
type deliverer struct {
	ctx context.Context
	// req carries a notify and the storing of its position: not
	// cancelled when delivery stops, so a stop lets the notify in flight
	// finish (bounded by gatewayTimeout) and stores it rather than
	// sending it again at the next start.
	req     context.Context
	p       *PushServer
	gw      *gatewayClient
	backoff *backoffs

	mu     sync.Mutex
	byUser map[string]map[storage.Key]*pusherWorker
	wg     sync.WaitGroup
}

// pusherWorker is a pusher's delivery state; fields are guarded by
// deliverer.mu.
type pusherWorker struct {
	pusher  storage.Pusher
	running bool
	more    bool // notifications may be waiting
	badge   bool // counts changed (a read receipt)
	removed bool
	// added is the PushServer.adds count that took this worker on: a
	// listing of pushers taken before it (Wakeups.PusherUsers) did not
	// name it.
	added uint64
}

func newDeliverer(ctx context.Context, p *PushServer, gw *gatewayClient) *deliverer {
	return &deliverer{ctx: ctx, req: context.WithoutCancel(ctx), p: p, gw: gw, backoff: newBackoffs(), byUser: map[string]map[storage.Key]*pusherWorker{}}
}

// add starts delivering for a new or updated pusher (an update keeps the
// position delivered so far) and catches up on anything waiting.
func (d *deliverer) add(p storage.Pusher) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ws := d.byUser[p.UserID]
	if ws == nil {
		ws = map[storage.Key]*pusherWorker{}
		d.byUser[p.UserID] = ws
	}
	w := ws[p.Key()]
	if w == nil {
		w = &pusherWorker{}
		ws[p.Key()] = w
		pushersActive.Inc()
	} else {
		p.DeliveredPos = w.pusher.DeliveredPos // as the database keeps it
	}
	w.added = d.p.adds.Add(1)
	w.pusher = p
	w.more = true
	d.startLocked(w)
}

// remove stops delivering for a deleted pusher.
func (d *deliverer) remove(k storage.Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w := d.byUser[k.UserID][k]; w != nil {
		w.removed = true
		pushersActive.Dec()
		delete(d.byUser[k.UserID], k)
		if len(d.byUser[k.UserID]) == 0 {
			delete(d.byUser, k.UserID)
		}
	}
}

// wake tells the user's pushers that notifications (or, with badge, the
// counts) changed.
func (d *deliverer) wake(userID string, badge bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.wakeLocked(userID, badge)
}

// wakeNotified wakes the pushers of every notified member of an event
// under one lock: a message in a 10,000-member room notifies them all,
// while usually few of them have a pusher. Pushers added after listed (a
// listing of pushers syncapi took in its transaction) are woken too: the
// listing could not name them, and their first read may have come before
// the commit.
func (d *deliverer) wakeNotified(userIDs []string, listed uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.byUser) == 0 {
		return
	}
	for _, u := range userIDs {
		d.wakeLocked(u, false)
	}
	if listed < d.p.adds.Load() {
		d.wakeAddedAfterLocked(listed)
	}
}

// wakeAll has every pusher read what it has not delivered.
func (d *deliverer) wakeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.wakeAddedAfterLocked(0)
}

// wakeAddedAfterLocked wakes the pushers taken on after the adds count
// listed (every pusher for 0).
func (d *deliverer) wakeAddedAfterLocked(listed uint64) {
	for _, ws := range d.byUser {
		for _, w := range ws {
			if w.added > listed {
				w.more = true
				d.startLocked(w)
			}
		}
	}
}

// pusherUsers lists the users with a pusher for whom member holds, and
// the adds count the listing saw.
func (d *deliverer) pusherUsers(member func(string) bool) ([]string, uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for u := range d.byUser {
		if member(u) {
			out = append(out, u)
		}
	}
	return out, d.p.adds.Load()
}

func (d *deliverer) wakeLocked(userID string, badge bool) {
	for _, w := range d.byUser[userID] {
		if badge {
			w.badge = true
		} else {
			w.more = true
		}
		d.startLocked(w)
	}
}

func (d *deliverer) startLocked(w *pusherWorker) {
	if w.running || d.ctx.Err() != nil {
		return
	}
	w.running = true
	pushersBusy.Inc()
	d.wg.Add(1)
	go d.run(w)
}

// wait returns when every worker has stopped (after the context ends).
func (d *deliverer) wait() { d.wg.Wait() }

// forget takes this deliverer's pushers and failing gateways out of the
// gauges (after wait).
func (d *deliverer) forget() {
	d.mu.Lock()
	for _, ws := range d.byUser {
		pushersActive.Sub(float64(len(ws)))
	}
	d.byUser = map[string]map[storage.Key]*pusherWorker{}
	d.mu.Unlock()
	d.backoff.mu.Lock()
	gatewaysBackingOff.Sub(float64(len(d.backoff.m)))
	d.backoff.m = map[string]*backoff{}
	d.backoff.mu.Unlock()
}

// run delivers until the pusher has nothing left to send.
func (d *deliverer) run(w *pusherWorker) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if w.removed || (!w.more && !w.badge) || d.ctx.Err() != nil {
			w.running = false
			pushersBusy.Dec()
			d.mu.Unlock()
			return
		}
		more, badge, p := w.more, w.badge, w.pusher
		w.more, w.badge = false, false
		d.mu.Unlock()
		if more {
			sent, pos := d.deliverPending(w, &p)
			d.mu.Lock()
			w.pusher.DeliveredPos = max(w.pusher.DeliveredPos, pos)
			d.mu.Unlock()
			if sent {
				badge = false // the notifications carried the new counts
			}
		}
		if badge {
			d.sendBadge(w, &p)
		}
	}
}

// deliverPending sends every notification after the pusher's position, in
// order, storing the position after each. It returns whether it sent any
// and the position reached.
func (d *deliverer) deliverPending(w *pusherWorker, p *storage.Pusher) (bool, int64) {
	sent := false
	for {
		var ns []syncapi.PushNotification
		if !d.retry(w, "", func() error {
			var err error
			ns, err = d.p.src.PushNotificationsAfter(d.ctx, p.UserID, p.DeliveredPos, deliveryBatch)
			return err
		}) {
			return sent, p.DeliveredPos
		}
		for i := range ns {
			n := &ns[i]
			if n.Skip {
				p.DeliveredPos = n.Pos
				continue
			}
			ok := d.retryUntil(w, gatewayURL(p), time.Now().Add(giveUpAfter), func() (error, bool) {
				c, err := d.p.src.PushCounts(d.ctx, p.UserID)
				if err != nil {
					return err, false
				}
				return d.post(w, p, eventNotification(p, n, c))
			})
			if d.stopped(w) {
				return sent, p.DeliveredPos
			}
			if !ok {
				d.p.log.Warn("push gateway kept refusing a notification; skipped", "user_id", p.UserID, "app_id", p.AppID, "event_id", n.EventID)
				pushesSent.WithLabelValues("gave_up").Inc()
			} else {
				pushesSent.WithLabelValues("ok").Inc()
			}
			sent = true
			p.DeliveredPos = n.Pos
			if err := d.p.db.SetDelivered(d.req, p.Key(), n.Pos); err != nil {
				// Kept in memory; after a restart the gateway may see it
				// again. Refused because another process delivers now:
				// this one stops.
				d.p.fenced(err)
				d.p.log.Error("store pusher position", "user_id", p.UserID, "error", err)
			}
		}
		if len(ns) < deliveryBatch {
			return sent, p.DeliveredPos
		}
	}
}

func (d *deliverer) sendBadge(w *pusherWorker, p *storage.Pusher) {
	d.retryUntil(w, gatewayURL(p), time.Now().Add(giveUpAfter), func() (error, bool) {
		c, err := d.p.src.PushCounts(d.ctx, p.UserID)
		if err != nil {
			return err, false
		}
		return d.post(w, p, badgeNotification(p, c))
	})
}

// post sends one notify. A pushkey the gateway rejects loses its pusher;
// that counts as done (nothing more can be sent to it).
func (d *deliverer) post(w *pusherWorker, p *storage.Pusher, body notifyRequest) (error, bool) {
	data, err := json.Marshal(body)
	if err != nil {
		return err, false
	}
	rejected, err := d.gw.notify(d.req, gatewayURL(p), data)
	if err != nil {
		return err, false
	}
	for _, k := range rejected {
		if k == p.PushKey {
			d.p.removeRejected(d, p.Key())
		}
	}
	return nil, true
}

// retry runs f until it succeeds, backing off on failure; false when the
// pusher was removed or delivery is stopping.
func (d *deliverer) retry(w *pusherWorker, gateway string, f func() error) bool {
	return d.retryUntil(w, gateway, time.Time{}, func() (error, bool) {
		err := f()
		return err, err == nil
	})
}

// retryUntil runs f until it reports done, waiting out the gateway's
// backoff after each failure, until deadline (zero: no deadline). It
// returns false if it gave up or the pusher stopped.
func (d *deliverer) retryUntil(w *pusherWorker, gateway string, deadline time.Time, f func() (error, bool)) bool {
	for {
		if d.stopped(w) {
			return false
		}
		if !d.sleep(d.backoff.until(gateway)) {
			return false
		}
		err, done := f()
		if done {
			d.backoff.succeeded(gateway)
			return true
		}
		if d.ctx.Err() != nil {
			return false
		}
		d.p.log.Debug("push delivery failed", "gateway", gateway, "error", err)
		d.backoff.failed(gateway)
		if !deadline.IsZero() && time.Now().After(deadline) {
			return false
		}
	}
}

func (d *deliverer) stopped(w *pusherWorker) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return w.removed || d.ctx.Err() != nil
}

// sleep waits until t (or returns false when delivery stops).
func (d *deliverer) sleep(t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return d.ctx.Err() == nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-d.ctx.Done():
		return false
	}
}

// gatewayURL is the pusher's gateway URL.
func gatewayURL(p *storage.Pusher) string {
	var data struct {
		URL string `json:"url"`
	}
	_ = json.Unmarshal(p.Data, &data)
	return data.URL
}

// backoffs is the retry state of failing gateways, by URL ("" for
// failures reading our own database).
type backoffs struct {
	mu sync.Mutex
	m  map[string]*backoff
}

type backoff struct {
	delay time.Duration
	next  time.Time
}

const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

func newBackoffs() *backoffs { return &backoffs{m: map[string]*backoff{}} }

func (b *backoffs) until(gateway string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.m[gateway]; s != nil {
		return s.next
	}
	return time.Time{}
}

func (b *backoffs) failed(gateway string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.m[gateway]
	if s == nil {
		s = &backoff{}
		b.m[gateway] = s
		gatewaysBackingOff.Inc()
	}
	if time.Now().Before(s.next) {
		return // another pusher of this gateway already backed off
	}
	s.delay = min(max(2*s.delay, minBackoff), maxBackoff)
	s.next = time.Now().Add(s.delay)
}

func (b *backoffs) succeeded(gateway string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m[gateway] != nil {
		delete(b.m, gateway)
		gatewaysBackingOff.Dec()
	}
}
