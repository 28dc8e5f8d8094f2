package federationapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
)

var must = testutil.Must

// TestRetriedTransactionAppliedOnce: a transaction retried at another
// federationapi process (another txnProcessor on the same tables) gets the
// first answer and its EDUs are not applied again; one still being
// processed elsewhere is refused with a retryable error, not applied.
func TestRetriedTransactionAppliedOnce(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			a := startServer(t, b.NewDSN)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			st, err := a.base.Stream(ctx, stream.DeviceListUpdates)
			must(t, err)
			before, err := st.LastSeq(ctx)
			must(t, err)
			txn := &inboundTxn{EDUs: []inboundEDU{{Type: "m.device_list_update",
				Content: json.RawMessage(`{"user_id":"@u:remote.example","device_id":"D","stream_id":1,"keys":{"user_id":"@u:remote.example","device_id":"D"}}`)}}}
			first, second := &txnProcessor{f: a.api}, &txnProcessor{f: a.api}
			for i, p := range []*txnProcessor{first, second, first} {
				if r := p.process(ctx, "remote.example", "t1", txn); r.Code != http.StatusOK {
					t.Fatalf("attempt %d: %d %+v", i, r.Code, r.JSON)
				}
			}
			after, err := st.LastSeq(ctx)
			must(t, err)
			if after != before+1 {
				t.Fatalf("the EDU was applied %d times, want once", after-before)
			}

			// Claimed by a process that has not answered yet.
			now := time.Now().UnixMilli()
			_, claimed, err := a.api.store.ClaimInboundTxn(ctx, "remote.example", "t2", now, 0)
			if err != nil || !claimed {
				t.Fatalf("claim: %v %v", claimed, err)
			}
			if r := second.process(ctx, "remote.example", "t2", txn); r.Code != http.StatusServiceUnavailable {
				t.Fatalf("a transaction in progress elsewhere: %d %+v", r.Code, r.JSON)
			}
			if last, err := st.LastSeq(ctx); err != nil || last != after {
				t.Fatalf("a transaction in progress elsewhere was applied: %d %v", last-after, err)
			}
		})
	}
}
