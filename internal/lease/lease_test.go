package lease_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/lease"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/nats-io/nats.go/jetstream"
)

const ttl = time.Second

// recorder is a Handler that remembers the epochs it was given.
type recorder struct {
	mu       sync.Mutex
	acquired map[int][]lease.Epoch
	lost     map[int]int
}

func newRecorder() *recorder {
	return &recorder{acquired: map[int][]lease.Epoch{}, lost: map[int]int{}}
}

func (r *recorder) Acquired(_ context.Context, p int, e lease.Epoch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acquired[p] = append(r.acquired[p], e)
	return nil
}

func (r *recorder) Lost(p int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lost[p]++
}

func bucket(t *testing.T) jetstream.KeyValue {
	t.Helper()
	ctx := context.Background()
	bus, err := stream.Connect(ctx, stream.Config{StoreDir: t.TempDir(), InMemory: true})
	testutil.Must(t, err)
	t.Cleanup(bus.Close)
	kv, err := bus.KeyValue(ctx, "test_leases", ttl)
	testutil.Must(t, err)
	return kv
}

func start(t *testing.T, kv jetstream.KeyValue, name string, partitions int, h lease.Handler) *lease.Manager {
	t.Helper()
	m, err := lease.Start(context.Background(), kv, lease.Config{Component: "test", Instance: name, Partitions: partitions, TTL: ttl}, h)
	testutil.Must(t, err)
	t.Cleanup(m.Close)
	return m
}

// split reports whether the managers together hold every partition once.
func split(n int, ms ...*lease.Manager) bool {
	seen := make([]int, n)
	for _, m := range ms {
		for _, p := range m.Owned() {
			seen[p]++
		}
	}
	for _, c := range seen {
		if c != 1 {
			return false
		}
	}
	return true
}

func TestLeasesSpreadAndMoveBack(t *testing.T) {
	kv := bucket(t)
	const n = 16
	ra, rb := newRecorder(), newRecorder()
	a := start(t, kv, "a", n, ra)
	if len(a.Owned()) != n {
		t.Fatalf("a lone instance holds %d of %d partitions after its first round", len(a.Owned()), n)
	}
	b := start(t, kv, "b", n, rb)
	testutil.Eventually(t, 10*time.Second, "partitions shared by a and b", func() bool {
		return split(n, a, b) && len(a.Owned()) > 0 && len(b.Owned()) > 0
	})
	// Every partition b took was a's before: a lost it (Lost called
	// before b's create), and b's epoch is newer than a's.
	ra.mu.Lock()
	rb.mu.Lock()
	for _, p := range b.Owned() {
		if ra.lost[p] == 0 {
			t.Errorf("partition %d moved to b but a was not told it lost it", p)
		}
		ea, eb := ra.acquired[p], rb.acquired[p]
		if len(ea) == 0 || len(eb) == 0 || !ea[len(ea)-1].Less(eb[len(eb)-1]) {
			t.Errorf("partition %d: b's epoch %v does not follow a's %v", p, eb, ea)
		}
	}
	rb.mu.Unlock()
	ra.mu.Unlock()
	// b shuts down: it gives its partitions back and a takes them at
	// once (well before the TTL would free them).
	moved := b.Owned()
	closed := time.Now()
	b.Close()
	if len(b.Owned()) != 0 {
		t.Fatalf("b still reports %v after Close", b.Owned())
	}
	testutil.Eventually(t, 10*time.Second, "a holding every partition again", func() bool { return split(n, a) })
	t.Logf("graceful handover of %d partitions: %s (TTL %s)", len(moved), time.Since(closed).Round(time.Millisecond), ttl)
	for _, p := range moved {
		ep, _ := a.Owner(p)
		ra.mu.Lock()
		got := ra.acquired[p]
		ra.mu.Unlock()
		if len(got) < 2 || got[len(got)-1] != ep {
			t.Errorf("partition %d: a's current epoch %v is not its latest acquisition %v", p, ep, got)
		}
	}
}

func TestLeaseExpiresWhenRenewalStops(t *testing.T) {
	kv := bucket(t)
	const n = 8
	ra, rb := newRecorder(), newRecorder()
	a := start(t, kv, "a", n, ra)
	b := start(t, kv, "b", n, rb)
	testutil.Eventually(t, 10*time.Second, "partitions shared", func() bool {
		return split(n, a, b) && len(a.Owned()) > 0 && len(b.Owned()) > 0
	})
	frozen := a.Owned()
	epochs := map[int]lease.Epoch{}
	for _, p := range frozen {
		epochs[p], _ = a.Owner(p)
	}
	// a stalls: it keeps believing it holds its partitions, but stops
	// renewing, so its leases expire and b takes them with newer epochs.
	a.Freeze()
	testutil.Eventually(t, 10*time.Second, "b holding every partition", func() bool { return split(n, b) })
	for _, p := range frozen {
		old, still := a.Owner(p)
		if !still || old != epochs[p] {
			t.Fatalf("the frozen instance's view of partition %d changed", p)
		}
		nw, _ := b.Owner(p)
		if !old.Less(nw) {
			t.Errorf("partition %d: the new owner's epoch %v is not newer than the stalled owner's %v", p, nw, old)
		}
		// Told by the store that a newer epoch exists, a gives it up.
		a.Lose(p, old)
		if _, ok := a.Owner(p); ok {
			t.Errorf("partition %d still held after Lose", p)
		}
	}
}

func TestPartitionCountMustAgree(t *testing.T) {
	kv := bucket(t)
	start(t, kv, "a", 8, newRecorder())
	_, err := lease.Start(context.Background(), kv, lease.Config{Component: "test", Instance: "b", Partitions: 16, TTL: ttl}, newRecorder())
	if err == nil {
		t.Fatal("an instance with another partition count started")
	}
}

func TestPartitionIsStable(t *testing.T) {
	// The hash must never change between releases: partitions are
	// recorded with the data (fencing epochs).
	got := []int{lease.Partition("!abc:example.org", 64), lease.Partition("!def:example.org", 64), lease.Partition("", 64)}
	want := []int{28, 19, 5} // FNV-1a 32-bit modulo 64
	if !slices.Equal(got, want) {
		t.Fatalf("Partition = %v, want %v", got, want)
	}
}

// TestLeaseGivenUpWhenNATSUnreachable: an instance cut off from NATS
// stops reporting its leases by itself (it cannot renew them), and the
// other instance takes them once they expire.
func TestLeaseGivenUpWhenNATSUnreachable(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	connect := func() (*stream.Bus, jetstream.KeyValue) {
		bus, err := stream.Connect(ctx, stream.Config{URLs: []string{srv.URL()}, Prefix: "lt"})
		testutil.Must(t, err)
		t.Cleanup(bus.Close)
		kv, err := bus.KeyValue(ctx, "test_leases", ttl)
		testutil.Must(t, err)
		return bus, kv
	}
	busA, kvA := connect()
	_, kvB := connect()
	const n = 8
	ra := newRecorder()
	a := start(t, kvA, "a", n, ra)
	b := start(t, kvB, "b", n, newRecorder())
	testutil.Eventually(t, 10*time.Second, "partitions shared", func() bool {
		return split(n, a, b) && len(a.Owned()) > 0 && len(b.Owned()) > 0
	})
	held := a.Owned()
	busA.Close()
	// a may have been taking one more partition as the connection
	// closed, so wait for it to report none at all (its own ¾ TTL check
	// guarantees that) as well as being told of each one it held.
	testutil.Eventually(t, 10*time.Second, "a told it lost its leases and reporting none", func() bool {
		if len(a.Owned()) != 0 { // outside ra.mu, which the handler takes
			return false
		}
		ra.mu.Lock()
		defer ra.mu.Unlock()
		for _, p := range held {
			if ra.lost[p] == 0 {
				return false
			}
		}
		return true
	})
	testutil.Eventually(t, 10*time.Second, "b holding every partition", func() bool { return split(n, b) })
}
