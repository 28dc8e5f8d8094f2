package federationapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Several federationapi processes behind one load balancer share which
// inbound transactions they answered (docs/scaling.md), so a retry that
// reaches another process is answered, not processed again (its EDUs —
// to-device messages, receipts — would apply twice). A transaction is
// claimed in the NATS key-value bucket <prefix>_federation_txns before
// processing and its answer stored after; a process that finds a claim
// waits for the answer. A claim left by a process that died is taken
// over after txnClaimTimeout. The monolith remembers in memory only.

const (
	// txnRemembered is how long an answer is kept for retries (the
	// bucket's TTL).
	txnRemembered = time.Hour
	// txnClaimTimeout: a claim older than this is taken over (its
	// process died or is stuck).
	txnClaimTimeout = 2 * time.Minute
	// txnWait bounds how long a retry waits for another process's answer;
	// then it is answered without per-PDU results (the other process is
	// still applying them).
	txnWait = 30 * time.Second
	// txnPoll is how often a waiting retry looks for the answer.
	txnPoll = 100 * time.Millisecond
)

type sharedTxns struct {
	bucket func(ctx context.Context) (jetstream.KeyValue, error)
}

// txnRecord is a bucket entry: a claim, then the answer.
type txnRecord struct {
	ClaimedMs int64                `json:"claimed_ms,omitempty"`
	Done      bool                 `json:"done,omitempty"`
	Results   map[string]pduResult `json:"results,omitempty"`
}

// txnKey is a valid bucket key for (origin, txnID), whatever they hold.
func txnKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// begin claims key for this process (mine) or returns the answer another
// process gave. With the bucket unreachable this process processes it.
func (s *sharedTxns) begin(ctx context.Context, key string) (results map[string]pduResult, mine bool, err error) {
	kv, err := s.bucket(ctx)
	if err != nil {
		return nil, true, err
	}
	k := txnKey(key)
	ctx, cancel := context.WithTimeout(ctx, txnWait)
	defer cancel()
	claim, _ := json.Marshal(txnRecord{ClaimedMs: time.Now().UnixMilli()})
	for {
		if _, err := kv.Create(ctx, k, claim); err == nil {
			return nil, true, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, true, err
		}
		e, err := kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			continue // expired or deleted meanwhile: claim again
		case err != nil:
			return nil, true, err
		}
		var rec txnRecord
		if json.Unmarshal(e.Value(), &rec) == nil && rec.Done {
			return rec.Results, false, nil
		}
		if time.Since(time.UnixMilli(rec.ClaimedMs)) > txnClaimTimeout {
			if _, err := kv.Update(ctx, k, claim, e.Revision()); err == nil {
				return nil, true, nil
			}
		}
		t := time.NewTimer(txnPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return map[string]pduResult{}, false, nil
		case <-t.C:
		}
	}
}

// finish stores the answer for retries at any process.
func (s *sharedTxns) finish(ctx context.Context, key string, results map[string]pduResult) error {
	kv, err := s.bucket(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(txnRecord{Done: true, Results: results})
	if err != nil {
		return err
	}
	_, err = kv.Put(ctx, txnKey(key), data)
	return err
}

// newTxnProcessor shares answers through NATS when components run in
// several processes (federationapis may then sit side by side).
func (f *FederationAPI) newTxnProcessor() *txnProcessor {
	p := &txnProcessor{f: f}
	if len(f.base.Cfg.Components) > 0 && f.base.Bus != nil {
		p.shared = &sharedTxns{bucket: f.base.Bus.LazyKeyValue("federation_txns", txnRemembered).Bucket}
	}
	return p
}
