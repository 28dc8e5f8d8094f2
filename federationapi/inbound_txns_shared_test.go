package federationapi

import (
	"context"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream/natstest"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestSharedTxns: of two federationapi processes given one transaction,
// the first claims it; the second waits for and gets the first's answer
// instead of processing it again.
func TestSharedTxns(t *testing.T) {
	srv := natstest.Start(t)
	ctx := context.Background()
	shared := func() *sharedTxns {
		return &sharedTxns{bucket: srv.Bus(t, "fedtxn").LazyKeyValue("federation_txns", time.Minute).Bucket}
	}
	a, b := shared(), shared()
	key := "origin.example\x00txn1"
	if _, mine, err := a.begin(ctx, key); err != nil || !mine {
		t.Fatalf("first process: mine %v, %v", mine, err)
	}
	type answer struct {
		r    map[string]pduResult
		mine bool
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		r, mine, err := b.begin(ctx, key)
		got <- answer{r, mine, err}
	}()
	want := map[string]pduResult{"$ev": {Error: "refused"}}
	testutil.Must(t, a.finish(ctx, key, want))
	var ans answer
	testutil.Eventually(t, 10*time.Second, "the second process's answer", func() bool {
		select {
		case ans = <-got:
			return true
		default:
			return false
		}
	})
	if ans.err != nil || ans.mine || ans.r["$ev"] != want["$ev"] {
		t.Fatalf("second process: %+v, want the first's answer", ans)
	}
	if _, mine, err := b.begin(ctx, "origin.example\x00txn2"); err != nil || !mine {
		t.Fatalf("another transaction: mine %v, %v", mine, err)
	}
}
