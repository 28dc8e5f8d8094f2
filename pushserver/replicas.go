package pushserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/writer"
	"github.com/axon-hs/axon/pushserver/storage"
)

// Replicas (docs/scaling.md): every syncapi process runs a pushserver.
// All serve the pusher routes; delivery (and the user_devices consumer)
// runs only in the one holding the pushserver writer lease
// (internal/writer), which may be another process than the syncapi
// writer. Wake-ups and pusher changes reach it over core NATS
// (<prefix>.pushserver.signal); one lost in transit delays a pusher until
// its next wake-up or the next takeover, which catches every pusher up
// from its stored position. A starting replica's syncapi may wake before
// its pushserver exists: those wake-ups are dropped, and once it can
// publish it sends a catch-up (signalMsg.CatchUp) that has the deliverer
// run every pusher from its stored position. Replicas' syncapi names
// every notified member (no local list of pushers to narrow it by).
//
// Guarantee: every notification is delivered at least once. The
// position is stored after each notify (fenced: a former deliverer
// paused past its lease stores nothing and stops), and a graceful stop
// lets the notify in flight finish and stores it before giving the lease
// up, so a normal handover repeats nothing. A crash (or a freeze past the
// lease) between a notify and its stored position repeats that one
// notification at the new deliverer; gateways drop repeats by event_id.
type replica struct {
	p       *PushServer
	w       *writer.Writer
	nc      *nats.Conn
	subject string
	sub     *nats.Subscription
}

func (p *PushServer) startReplica(ctx context.Context) error {
	cfg := p.base.Cfg.Partitioning
	r := &replica{p: p, nc: p.base.Bus.Conn(), subject: p.base.Cfg.NATS.Prefix + ".pushserver.signal"}
	r.w = writer.New(p.db.DB, p.db.Fence, writer.Config{Component: "pushserver", Instance: cfg.Instance,
		TTL: cfg.LeaseTTL, Log: p.log}, p.startDelivery)
	sub, err := r.nc.Subscribe(r.subject, r.receive)
	if err != nil {
		return fmt.Errorf("pushserver signals: %w", err)
	}
	r.sub = sub
	p.replica = r
	if err := r.w.Start(ctx, p.base.Bus); err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	return nil
}

func (r *replica) publish(m signalMsg) {
	data, err := json.Marshal(m)
	if err == nil {
		err = r.nc.Publish(r.subject, data)
	}
	if err != nil {
		r.p.log.Warn("publish pushserver signal", "error", err)
	}
}

// receive applies a signal if this process delivers; a pusher change is
// read back from the database (the sender's copy may be older).
func (r *replica) receive(msg *nats.Msg) {
	var m signalMsg
	if json.Unmarshal(msg.Data, &m) != nil || r.p.del.Load() == nil {
		return
	}
	var set *storage.Pusher
	if m.Pusher != nil {
		ctx, cancel := context.WithTimeout(context.Background(), r.p.base.Cfg.Partitioning.LeaseTTL)
		defer cancel()
		var err error
		if set, err = r.p.db.Pusher(ctx, *m.Pusher); err != nil {
			// The next takeover loads it; meanwhile it waits.
			r.p.log.Error("read a changed pusher", "user_id", m.Pusher.UserID, "error", err)
			m.Pusher = nil
		}
	}
	r.p.apply(m, set)
}

// fenced is told of a delivery write's error.
func (p *PushServer) fenced(err error) {
	if p.replica != nil {
		p.replica.w.Fenced(err)
	}
}

// Writer reports whether this process delivers (always with one
// pushserver).
func (p *PushServer) Writer() bool { return p.replica == nil || p.replica.w.Held() }

// Leases is the writer lease manager (nil with one pushserver).
func (p *PushServer) Leases() *lease.Manager {
	if p.replica == nil {
		return nil
	}
	return p.replica.w.Leases()
}

// close gives the lease back (delivery drains and stops) and stops the
// signals.
func (r *replica) close() {
	r.w.Close()
	_ = r.sub.Unsubscribe()
}
