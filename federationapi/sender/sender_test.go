package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"

	"github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// fakeClient records transactions per destination and fails or hangs on
// demand.
type fakeClient struct {
	mu       sync.Mutex
	txns     map[string][]gomatrixserverlib.Transaction
	attempts map[string][]time.Time
	tried    map[string][]string // transaction IDs attempted
	failing  map[string]bool
	hanging  map[string]bool
}

func newFake() *fakeClient {
	return &fakeClient{txns: map[string][]gomatrixserverlib.Transaction{}, attempts: map[string][]time.Time{},
		tried: map[string][]string{}, failing: map[string]bool{}, hanging: map[string]bool{}}
}

func (f *fakeClient) SendTransaction(ctx context.Context, t gomatrixserverlib.Transaction) (fclient.RespSend, error) {
	d := string(t.Destination)
	f.mu.Lock()
	f.attempts[d] = append(f.attempts[d], time.Now())
	f.tried[d] = append(f.tried[d], string(t.TransactionID))
	hang, fail := f.hanging[d], f.failing[d]
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return fclient.RespSend{}, ctx.Err()
	}
	if fail {
		return fclient.RespSend{}, errors.New("connection refused")
	}
	f.mu.Lock()
	f.txns[d] = append(f.txns[d], t)
	f.mu.Unlock()
	return fclient.RespSend{}, nil
}

func (f *fakeClient) set(m map[string]bool, d string, v bool) {
	f.mu.Lock()
	m[d] = v
	f.mu.Unlock()
}

func (f *fakeClient) delivered(d string) (pdus, edus int, txns []gomatrixserverlib.Transaction) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.txns[d] {
		pdus += len(t.PDUs)
		edus += len(t.EDUs)
	}
	return pdus, edus, append([]gomatrixserverlib.Transaction(nil), f.txns[d]...)
}

func (f *fakeClient) attemptCount(d string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.attempts[d])
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, what, cond)
}

func forEach(t *testing.T, fn func(t *testing.T, store *storage.DB)) {
	storagetest.ForEachBackendWith(t, storage.Component, storage.Migrations, storage.New, fn)
}

// must fails the test on a set-up error.
var must = testutil.Must

// deliveredNs returns the "n" of every PDU delivered to d, in order.
func (f *fakeClient) deliveredNs(t *testing.T, d string) []int {
	t.Helper()
	_, _, txns := f.delivered(d)
	var ns []int
	for _, txn := range txns {
		for _, p := range txn.PDUs {
			var v struct{ N int }
			must(t, json.Unmarshal(p, &v))
			ns = append(ns, v.N)
		}
	}
	return ns
}

func pdu(i int) []byte { return []byte(fmt.Sprintf(`{"n":%d}`, i)) }

func testConfig() Config {
	return Config{Origin: "me.org", BaseBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond,
		RequestTimeout: 200 * time.Millisecond, IdleExit: 50 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestBatchesRespectLimitsAndOrder(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx := context.Background()
		client := newFake()
		s := New(store, client, testConfig())
		// Enqueue before starting so everything is waiting at once.
		for i := 0; i < 120; i++ {
			if err := s.Enqueue(ctx, []string{"a.org", "me.org"}, false, pdu(i)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 150; i++ {
			must(t, s.Enqueue(ctx, []string{"a.org"}, true, []byte(`{"edu_type":"m.typing","content":{}}`)))
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Stop()
		eventually(t, "delivery", func() bool { p, e, _ := client.delivered("a.org"); return p == 120 && e == 150 })
		_, _, txns := client.delivered("a.org")
		next := 0
		seen := map[gomatrixserverlib.TransactionID]bool{}
		for _, txn := range txns {
			if len(txn.PDUs) > 50 || len(txn.EDUs) > 100 {
				t.Fatalf("transaction over limits: %d PDUs, %d EDUs", len(txn.PDUs), len(txn.EDUs))
			}
			if seen[txn.TransactionID] {
				t.Fatalf("transaction ID %s reused", txn.TransactionID)
			}
			seen[txn.TransactionID] = true
			for _, p := range txn.PDUs {
				var v struct{ N int }
				must(t, json.Unmarshal(p, &v))
				if v.N != next {
					t.Fatalf("PDU %d out of order, want %d", v.N, next)
				}
				next++
			}
		}
		if client.attemptCount("me.org") != 0 {
			t.Fatal("sent a transaction to ourselves")
		}
		eventually(t, "everything acked", func() bool {
			left, err := store.NextBatch(ctx, "a.org", 50, 100)
			return err == nil && len(left) == 0
		})
	})
}

func TestBackoffAndResetAndIsolation(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx := context.Background()
		client := newFake()
		client.set(client.failing, "flaky.org", true)
		client.set(client.hanging, "dead.org", true)
		cfg := testConfig()
		s := New(store, client, cfg)
		must(t, s.Start(ctx))
		defer s.Stop()
		must(t, s.Enqueue(ctx, []string{"dead.org", "flaky.org"}, false, pdu(1)))
		must(t, s.Enqueue(ctx, []string{"good.org"}, false, pdu(1)))
		// A hanging peer does not hold up a healthy one.
		eventually(t, "good.org delivery", func() bool { p, _, _ := client.delivered("good.org"); return p == 1 })

		eventually(t, "several retries", func() bool { return client.attemptCount("flaky.org") >= 5 })
		d, err := store.Destination(ctx, "flaky.org")
		must(t, err)
		if d.Failures < 4 || d.FirstFailureTS == 0 {
			t.Fatalf("failures not recorded: %+v", d)
		}
		client.mu.Lock()
		at := append([]time.Time(nil), client.attempts["flaky.org"]...)
		client.mu.Unlock()
		// Failure n (of attempt at[n-1]) schedules the next try one backoff
		// step later, and the queue waits it out. Lower bounds only (load
		// can only lengthen the waits), less a millisecond for the stored
		// rounding; the curve itself is TestBackoffCurve's.
		if retry, want := time.UnixMilli(d.RetryAtTS), at[d.Failures-1].Add(cfg.backoff(d.Failures)); retry.Before(want.Add(-time.Millisecond)) {
			t.Fatalf("after %d failures retry at %v, want at least %v later than the failed attempt", d.Failures, retry, cfg.backoff(d.Failures))
		}
		for n := 1; n < len(at); n++ {
			if gap, want := at[n].Sub(at[n-1]), cfg.backoff(int64(n)); gap < want-time.Millisecond {
				t.Fatalf("attempt %d came %v after the previous one, backoff is %v", n+1, gap, want)
			}
		}
		client.set(client.failing, "flaky.org", false)
		eventually(t, "flaky.org recovery", func() bool { p, _, _ := client.delivered("flaky.org"); return p == 1 })
		eventually(t, "backoff reset", func() bool { d, err := store.Destination(ctx, "flaky.org"); return err == nil && d.Failures == 0 })
	})
}

func TestBackoffCurve(t *testing.T) {
	c := Config{BaseBackoff: time.Second, MaxBackoff: time.Minute}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := c.backoff(int64(i + 1)); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestRestartResendsUnacknowledged(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx := context.Background()
		down := newFake()
		down.set(down.failing, "b.org", true)
		s := New(store, down, testConfig())
		must(t, s.Start(ctx))
		must(t, s.Enqueue(ctx, []string{"b.org"}, false, pdu(7)))
		eventually(t, "an attempt", func() bool { return down.attemptCount("b.org") > 0 })
		s.Stop()

		up := newFake()
		s2 := New(store, up, testConfig())
		// The stored backoff is honoured across restarts, then it resends.
		if err := s2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s2.Stop()
		eventually(t, "resend after restart", func() bool { p, _, _ := up.delivered("b.org"); return p == 1 })
	})
}

func TestBlacklistAndRevive(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx := context.Background()
		client := newFake()
		client.set(client.failing, "gone.org", true)
		cfg := testConfig()
		cfg.BlacklistAfter = 60 * time.Millisecond
		s := New(store, client, cfg)
		must(t, s.Start(ctx))
		defer s.Stop()
		must(t, s.Enqueue(ctx, []string{"gone.org"}, false, pdu(1)))
		eventually(t, "blacklisting", func() bool { return s.IsBlacklisted(ctx, "gone.org") })
		left, err := store.NextBatch(ctx, "gone.org", 50, 100)
		must(t, err)
		if len(left) != 0 {
			t.Fatal("queue of a blacklisted destination kept")
		}
		// Dropped, not queued: nothing is waiting for the destination...
		must(t, s.Enqueue(ctx, []string{"gone.org"}, false, pdu(2)))
		if left, err := store.NextBatch(ctx, "gone.org", 50, 100); err != nil || len(left) != 0 {
			t.Fatalf("enqueue to a blacklisted destination queued %d items (%v)", len(left), err)
		}
		client.set(client.failing, "gone.org", false)
		s.MarkAlive("gone.org")
		eventually(t, "revival", func() bool { return !s.IsBlacklisted(ctx, "gone.org") })
		must(t, s.Enqueue(ctx, []string{"gone.org"}, false, pdu(3)))
		// ...so once it is back, the marker PDU 3 arrives and PDU 2 never does
		// (the queue is FIFO: a kept PDU 2 would have come first). PDU 1 may
		// come again: it was in the transaction in flight when the queue was
		// dropped.
		eventually(t, "marker delivered after revival", func() bool {
			ns := client.deliveredNs(t, "gone.org")
			return len(ns) > 0 && ns[len(ns)-1] == 3
		})
		for _, n := range client.deliveredNs(t, "gone.org") {
			if n == 2 {
				t.Fatal("PDU enqueued while blacklisted was delivered")
			}
		}
	})
}
