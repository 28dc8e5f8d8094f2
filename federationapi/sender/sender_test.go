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
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// fakeClient records transactions per destination and fails or hangs on
// demand.
type fakeClient struct {
	mu       sync.Mutex
	txns     map[string][]gomatrixserverlib.Transaction
	attempts map[string][]time.Time
	failing  map[string]bool
	hanging  map[string]bool
}

func newFake() *fakeClient {
	return &fakeClient{txns: map[string][]gomatrixserverlib.Transaction{}, attempts: map[string][]time.Time{},
		failing: map[string]bool{}, hanging: map[string]bool{}}
}

func (f *fakeClient) SendTransaction(ctx context.Context, t gomatrixserverlib.Transaction) (fclient.RespSend, error) {
	d := string(t.Destination)
	f.mu.Lock()
	f.attempts[d] = append(f.attempts[d], time.Now())
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
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func forEach(t *testing.T, fn func(t *testing.T, store *storage.DB)) {
	storagetest.ForEachBackend(t, storage.Component, storage.Migrations, func(t *testing.T, db *istorage.DB) { fn(t, storage.New(db)) })
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
			_ = s.Enqueue(ctx, []string{"a.org"}, true, []byte(`{"edu_type":"m.typing","content":{}}`))
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
				_ = json.Unmarshal(p, &v)
				if v.N != next {
					t.Fatalf("PDU %d out of order, want %d", v.N, next)
				}
				next++
			}
		}
		if client.attemptCount("me.org") != 0 {
			t.Fatal("sent a transaction to ourselves")
		}
		eventually(t, "everything acked", func() bool { left, _ := store.NextBatch(ctx, "a.org", 50, 100); return len(left) == 0 })
	})
}

func TestBackoffAndResetAndIsolation(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx := context.Background()
		client := newFake()
		client.set(client.failing, "flaky.org", true)
		client.set(client.hanging, "dead.org", true)
		s := New(store, client, testConfig())
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Stop()
		_ = s.Enqueue(ctx, []string{"dead.org", "flaky.org"}, false, pdu(1))
		_ = s.Enqueue(ctx, []string{"good.org"}, false, pdu(1))
		// A hanging peer does not hold up a healthy one.
		eventually(t, "good.org delivery", func() bool { p, _, _ := client.delivered("good.org"); return p == 1 })

		eventually(t, "several retries", func() bool { return client.attemptCount("flaky.org") >= 5 })
		d, _ := store.Destination(ctx, "flaky.org")
		if d.Failures < 4 || d.RetryAtTS == 0 {
			t.Fatalf("failures not recorded: %+v", d)
		}
		client.mu.Lock()
		at := append([]time.Time(nil), client.attempts["flaky.org"]...)
		client.mu.Unlock()
		// Gaps grow: the 4th gap is at least 4x the base.
		if gap := at[4].Sub(at[3]); gap < 40*time.Millisecond {
			t.Fatalf("no exponential backoff: gap %v", gap)
		}
		client.set(client.failing, "flaky.org", false)
		eventually(t, "flaky.org recovery", func() bool { p, _, _ := client.delivered("flaky.org"); return p == 1 })
		eventually(t, "backoff reset", func() bool { d, _ := store.Destination(ctx, "flaky.org"); return d.Failures == 0 })
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
		_ = s.Start(ctx)
		_ = s.Enqueue(ctx, []string{"b.org"}, false, pdu(7))
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
		_ = s.Start(ctx)
		defer s.Stop()
		_ = s.Enqueue(ctx, []string{"gone.org"}, false, pdu(1))
		eventually(t, "blacklisting", func() bool { return s.IsBlacklisted(ctx, "gone.org") })
		if left, _ := store.NextBatch(ctx, "gone.org", 50, 100); len(left) != 0 {
			t.Fatal("queue of a blacklisted destination kept")
		}
		n := client.attemptCount("gone.org")
		_ = s.Enqueue(ctx, []string{"gone.org"}, false, pdu(2)) // dropped: blacklisted
		time.Sleep(50 * time.Millisecond)
		if client.attemptCount("gone.org") != n {
			t.Fatal("sent to a blacklisted destination")
		}
		client.set(client.failing, "gone.org", false)
		s.MarkAlive("gone.org")
		eventually(t, "revival", func() bool { return !s.IsBlacklisted(ctx, "gone.org") })
		_ = s.Enqueue(ctx, []string{"gone.org"}, false, pdu(3))
		eventually(t, "delivery after revival", func() bool { p, _, _ := client.delivered("gone.org"); return p == 1 })
	})
}
