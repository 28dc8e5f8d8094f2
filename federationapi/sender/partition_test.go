package sender

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/lease"
)

// fakeLeases is the partition ownership several senders see: who holds
// each partition at which epoch (also recorded in the store, as the
// lease handler does). A frozen sender keeps seeing what it held.
type fakeLeases struct {
	t     *testing.T
	store *storage.DB
	n     int
	mu    sync.Mutex
	owner map[int]string
	rev   map[int]uint64
	// frozen senders' views (partition -> epoch believed held).
	frozen  map[string]map[int]uint64
	senders map[string]*Sender
	muted   map[string]bool // not woken by Broadcast
	lost    map[string][]int
}

func newFakeLeases(t *testing.T, store *storage.DB, n int) *fakeLeases {
	return &fakeLeases{t: t, store: store, n: n, owner: map[int]string{}, rev: map[int]uint64{},
		frozen: map[string]map[int]uint64{}, senders: map[string]*Sender{}, muted: map[string]bool{}, lost: map[string][]int{}}
}

// give makes name the holder of p under a new epoch.
func (l *fakeLeases) give(p int, name string) {
	l.mu.Lock()
	l.rev[p]++
	l.owner[p] = name
	rev := l.rev[p]
	l.mu.Unlock()
	ok, err := l.store.ClaimPartition(context.Background(), p, 1, rev, name)
	if err != nil || !ok {
		l.t.Fatalf("claim partition %d: %v %v", p, ok, err)
	}
}

// freeze makes name keep believing it holds what it holds now.
func (l *fakeLeases) freeze(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	view := map[int]uint64{}
	for p, o := range l.owner {
		if o == name {
			view[p] = l.rev[p]
		}
	}
	l.frozen[name] = view
}

// setFrozen makes the frozen name believe it holds p at rev.
func (l *fakeLeases) setFrozen(name string, p int, rev uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frozen[name][p] = rev
}

func (l *fakeLeases) mute(name string, muted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.muted[name] = muted
}

func (l *fakeLeases) lostBy(name string) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lost[name])
}

// view is one sender's Partitioner.
type view struct {
	l    *fakeLeases
	name string
}

func (v view) Fence(dest string) (storage.Fence, bool) {
	l := v.l
	p := lease.Partition(dest, l.n)
	l.mu.Lock()
	defer l.mu.Unlock()
	if fz, ok := l.frozen[v.name]; ok {
		rev, held := fz[p]
		return storage.Fence{Partition: p, Gen: 1, Rev: rev}, held
	}
	return storage.Fence{Partition: p, Gen: 1, Rev: l.rev[p]}, l.owner[p] == v.name
}

func (v view) Lose(f storage.Fence) {
	l := v.l
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lost[v.name] = append(l.lost[v.name], f.Partition)
	if fz, ok := l.frozen[v.name]; ok {
		delete(fz, f.Partition)
	}
}

func (v view) Broadcast(dests []string) {
	v.l.mu.Lock()
	all := make([]*Sender, 0, len(v.l.senders))
	for name, s := range v.l.senders {
		if !v.l.muted[name] {
			all = append(all, s)
		}
	}
	v.l.mu.Unlock()
	for _, s := range all {
		s.Wake(dests...)
	}
}

func (v view) BroadcastAlive(string) {}

func (l *fakeLeases) start(t *testing.T, name string, client Client) *Sender {
	cfg := testConfig()
	cfg.Partitions, cfg.Instance = view{l: l, name: name}, name
	s := New(l.store, client, cfg)
	l.mu.Lock()
	l.senders[name] = s
	l.mu.Unlock()
	must(t, s.Start(context.Background()))
	t.Cleanup(s.Stop)
	return s
}

// destsIn picks count destination names in partition p.
func destsIn(p, n, count int) []string {
	var out []string
	for i := 0; len(out) < count; i++ {
		d := fmt.Sprintf("d%d.org", i)
		if lease.Partition(d, n) == p {
			out = append(out, d)
		}
	}
	return out
}

// TestPartitionedSenders: two senders on one store each send only to the
// destinations of the partitions they hold. A partition moving while a
// transaction is unacknowledged has that transaction resent, unchanged,
// by the new holder. A holder frozen past its lease (still believing it
// holds the partition) neither puts items in a new transaction nor
// resends the new holder's: its writes and sends are fenced, and it
// gives the lease up.
func TestPartitionedSenders(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx := context.Background()
		const n = 4
		l := newFakeLeases(t, store, n)
		l.give(0, "a")
		l.give(1, "a")
		l.give(2, "b")
		l.give(3, "b")
		ca, cb := newFake(), newFake()
		a := l.start(t, "a", ca)
		b := l.start(t, "b", cb)
		var all []string
		for p := 0; p < n; p++ {
			all = append(all, destsIn(p, n, 2)...)
		}
		must(t, a.Enqueue(ctx, all, false, pdu(1)))
		eventually(t, "every destination served by its holder", func() bool {
			for _, d := range all {
				pa, _, _ := ca.delivered(d)
				pb, _, _ := cb.delivered(d)
				if pa+pb != 1 {
					return false
				}
			}
			return true
		})
		for _, d := range all {
			p := lease.Partition(d, n)
			if pa, _, _ := ca.delivered(d); (pa == 1) != (p < 2) {
				t.Errorf("%s (partition %d): a delivered %d", d, p, pa)
			}
		}

		// Partition 0 moves to b while a's transaction hangs unanswered.
		d := destsIn(0, n, 1)[0]
		ca.set(ca.hanging, d, true)
		must(t, a.Enqueue(ctx, []string{d}, false, pdu(2)))
		eventually(t, "a trying to send", func() bool { return ca.attemptCount(d) >= 2 })
		l.give(0, "b")
		b.Wake(d)
		eventually(t, "b resending the transaction", func() bool { return slices.Equal(cb.deliveredNs(t, d), []int{2}) })
		_, _, got := cb.delivered(d)
		if !slices.Contains(txnIDs(ca, d), string(got[0].TransactionID)) {
			t.Errorf("b sent %s, a had tried %v: not the same transaction", got[0].TransactionID, txnIDs(ca, d))
		}

		// a freezes holding partition 1; partition 1 moves to b, whose
		// first transaction hangs. a, woken, must not resend it.
		l.freeze("a")
		l.mute("a", true) // hears of nothing until the transaction is b's
		l.give(1, "b")
		d1 := destsIn(1, n, 1)[0]
		cb.set(cb.hanging, d1, true)
		must(t, b.Enqueue(ctx, []string{d1}, false, pdu(3)))
		eventually(t, "b trying to send", func() bool { return cb.attemptCount(d1) >= 1 })
		before := ca.attemptCount(d1) // a delivered the first item, when it held partition 1
		l.mute("a", false)
		a.Wake(d1)
		eventually(t, "the frozen a giving partition 1 up", func() bool { return len(l.lostBy("a")) == 1 })
		if ca.attemptCount(d1) != before {
			t.Errorf("the frozen a resent b's transaction to %s", d1)
		}
		cb.set(cb.hanging, d1, false)
		eventually(t, "b delivering it", func() bool { return slices.Equal(cb.deliveredNs(t, d1), []int{3}) })

		// Still frozen, a is told of a new item before b: it must not put
		// it in a transaction of its own.
		l.freeze("a")
		l.setFrozen("a", 1, 1) // the epoch a held partition 1 under
		l.mute("b", true)
		must(t, a.Enqueue(ctx, []string{d1}, false, pdu(4)))
		eventually(t, "the frozen a giving partition 1 up again", func() bool { return len(l.lostBy("a")) == 2 })
		if ca.attemptCount(d1) != before {
			t.Errorf("the frozen a sent to %s after its lease moved", d1)
		}
		l.mute("b", false)
		b.Wake(d1)
		eventually(t, "b delivering the new item", func() bool { return slices.Equal(cb.deliveredNs(t, d1), []int{3, 4}) })
		// Nothing was in two transactions.
		seen := map[string]string{}
		for _, c := range []*fakeClient{ca, cb} {
			for _, dest := range all {
				_, _, txns := c.delivered(dest)
				for _, txn := range txns {
					for _, raw := range txn.PDUs {
						k := dest + string(raw)
						if prev, ok := seen[k]; ok && prev != string(txn.TransactionID) {
							t.Errorf("%s %s in transactions %s and %s", dest, raw, prev, txn.TransactionID)
						}
						seen[k] = string(txn.TransactionID)
					}
				}
			}
		}
	})
}

// txnIDs lists the transactions c was asked to send to d (answered or not).
func txnIDs(c *fakeClient, d string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.tried[d])
}
