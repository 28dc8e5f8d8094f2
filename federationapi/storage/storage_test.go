package storage

import (
	"context"
	"errors"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/testutil"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/storage/storagetest"
)

func forEach(t *testing.T, fn func(t *testing.T, s *DB)) {
	storagetest.ForEachBackendWith(t, Component, Migrations, New, fn)
}

// must fails the test on a set-up error.
var must = testutil.Must

func TestServerKeys(t *testing.T) {
	forEach(t, func(t *testing.T, s *DB) {
		ctx := context.Background()
		req := gomatrixserverlib.PublicKeyLookupRequest{ServerName: "a.org", KeyID: "ed25519:1"}
		fresh := gomatrixserverlib.PublicKeyLookupResult{VerifyKey: gomatrixserverlib.VerifyKey{Key: []byte("0123456789abcdef0123456789abcdef")}, ValidUntilTS: 2000}
		if err := s.StoreKeys(ctx, map[gomatrixserverlib.PublicKeyLookupRequest]gomatrixserverlib.PublicKeyLookupResult{req: fresh}); err != nil {
			t.Fatal(err)
		}
		stale := fresh
		stale.ValidUntilTS = 1000
		if err := s.StoreKeys(ctx, map[gomatrixserverlib.PublicKeyLookupRequest]gomatrixserverlib.PublicKeyLookupResult{req: stale}); err != nil {
			t.Fatal(err)
		}
		got, err := s.FetchKeys(ctx, map[gomatrixserverlib.PublicKeyLookupRequest]spec.Timestamp{req: 0, {ServerName: "b.org", KeyID: "ed25519:1"}: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[req].ValidUntilTS != 2000 || string(got[req].Key) != string(fresh.Key) {
			t.Fatalf("got %+v", got)
		}
		// Expiry always wins: an old key stays old.
		old := fresh
		old.ValidUntilTS, old.ExpiredTS = 0, 1500
		must(t, s.StoreKeys(ctx, map[gomatrixserverlib.PublicKeyLookupRequest]gomatrixserverlib.PublicKeyLookupResult{req: old}))
		got, err = s.FetchKeys(ctx, map[gomatrixserverlib.PublicKeyLookupRequest]spec.Timestamp{req: 0})
		must(t, err)
		if got[req].ExpiredTS != 1500 {
			t.Fatalf("expired not stored: %+v", got[req])
		}

		if r, err := s.KeyResponse(ctx, "a.org"); !errors.Is(err, istorage.ErrNotFound) || r != nil {
			t.Fatalf("want none, got %v %v", r, err)
		}
		must(t, s.StoreKeyResponse(ctx, KeyResponse{ServerName: "a.org", Response: []byte(`{"v":2}`), ValidUntilTS: 20, FetchedTS: 1}))
		must(t, s.StoreKeyResponse(ctx, KeyResponse{ServerName: "a.org", Response: []byte(`{"v":1}`), ValidUntilTS: 10, FetchedTS: 2}))
		r, err := s.KeyResponse(ctx, "a.org")
		if err != nil || string(r.Response) != `{"v":2}` {
			t.Fatalf("got %+v %v", r, err)
		}
	})
}

func TestQueueAndPositions(t *testing.T) {
	forEach(t, func(t *testing.T, s *DB) {
		ctx := context.Background()
		err := s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			for i := 0; i < 3; i++ {
				if err := s.Enqueue(ctx, tx, []string{"a.org", "b.org"}, false, []byte(`{"pdu":1}`)); err != nil {
					return err
				}
			}
			if err := s.Enqueue(ctx, tx, []string{"a.org"}, true, []byte(`{"edu":1}`)); err != nil {
				return err
			}
			return s.SetPosition(ctx, tx, "room_events", 42)
		})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := s.Position(ctx, "room_events"); err != nil || p != 42 {
			t.Fatalf("position %d %v", p, err)
		}
		if p, err := s.Position(ctx, "other"); err != nil || p != 0 {
			t.Fatalf("position %d %v", p, err)
		}
		batch, err := s.NextBatch(ctx, "a.org", 2, 100)
		if err != nil || len(batch) != 3 || batch[0].IsEDU || !batch[2].IsEDU {
			t.Fatalf("batch %+v %v", batch, err)
		}
		dests, err := s.PendingDestinations(ctx)
		if err != nil || len(dests) != 2 {
			t.Fatalf("dests %v %v", dests, err)
		}
		// A batch put in a transaction is what NextBatch returns until
		// it is acknowledged, whatever the limits.
		must(t, s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			return s.AssignTxn(ctx, tx, "a.org", "t1", []int64{batch[0].ID, batch[1].ID, batch[2].ID})
		}))
		again, err := s.NextBatch(ctx, "a.org", 1, 1)
		if err != nil || len(again) != 3 || again[0].TxnID != "t1" || again[0].ID != batch[0].ID || !again[2].IsEDU {
			t.Fatalf("assigned batch %+v %v", again, err)
		}
		// Items already in a transaction cannot be put in another.
		if err := s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			return s.AssignTxn(ctx, tx, "a.org", "t2", []int64{batch[0].ID})
		}); !errors.Is(err, errQueueChanged) {
			t.Fatalf("re-assigning an item: %v", err)
		}
		if err := s.Ack(ctx, "a.org", "t1"); err != nil {
			t.Fatal(err)
		}
		batch, err = s.NextBatch(ctx, "a.org", 50, 100)
		if err != nil || len(batch) != 1 || batch[0].TxnID != "" {
			t.Fatalf("left %+v %v", batch, err)
		}
		must(t, s.DropQueue(ctx, "b.org"))
		if batch, err = s.NextBatch(ctx, "b.org", 50, 100); err != nil || len(batch) != 0 {
			t.Fatalf("dropped queue still has %d %v", len(batch), err)
		}
	})
}

func TestDestinationsAndJoined(t *testing.T) {
	forEach(t, func(t *testing.T, s *DB) {
		ctx := context.Background()
		d, err := s.Destination(ctx, "a.org")
		if err != nil || d.Failures != 0 {
			t.Fatalf("%+v %v", d, err)
		}
		d.Failures, d.RetryAtTS, d.FirstFailureTS = 3, 99, 5
		if err := s.SetDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Destination(ctx, "a.org"); err != nil || got != d {
			t.Fatalf("got %+v %v", got, err)
		}
		d.Failures, d.RetryAtTS, d.FirstFailureTS = 0, 0, 0
		must(t, s.SetDestination(ctx, d))
		if got, err := s.Destination(ctx, "a.org"); err != nil || got.Failures != 0 {
			t.Fatalf("not reset: %+v %v", got, err)
		}

		err = s.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			for _, j := range [][2]string{{"$1", "a.org"}, {"$2", "a.org"}, {"$3", "b.org"}} {
				if err := s.AddJoined(ctx, tx, "!r:x", j[0], j[1]); err != nil {
					return err
				}
			}
			return s.RemoveJoined(ctx, tx, "!r:x", []string{"$3"})
		})
		if err != nil {
			t.Fatal(err)
		}
		servers, err := s.JoinedServers(ctx, s, "!r:x")
		if err != nil || len(servers) != 1 || servers[0] != "a.org" {
			t.Fatalf("%v %v", servers, err)
		}
	})
}

func TestPartitionFence(t *testing.T) {
	forEach(t, func(t *testing.T, s *DB) {
		ctx := context.Background()
		check := func(f Fence) error {
			return s.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return s.CheckFence(ctx, tx, f) })
		}
		old, newer := Fence{Partition: 3, Gen: 1, Rev: 5}, Fence{Partition: 3, Gen: 1, Rev: 9}
		if err := check(old); !errors.Is(err, ErrFenced) {
			t.Fatalf("unclaimed partition: %v", err)
		}
		if ok, err := s.ClaimPartition(ctx, 3, old.Gen, old.Rev, "fs-1"); err != nil || !ok {
			t.Fatalf("claim %v %v", ok, err)
		}
		must(t, check(old))
		if ok, err := s.ClaimPartition(ctx, 3, newer.Gen, newer.Rev, "fs-2"); err != nil || !ok {
			t.Fatalf("newer claim %v %v", ok, err)
		}
		if err := check(old); !errors.Is(err, ErrFenced) {
			t.Fatalf("a superseded epoch passed: %v", err)
		}
		if ok, _ := s.ClaimPartition(ctx, 3, old.Gen, old.Rev, "fs-1"); ok {
			t.Fatal("an older epoch was recorded over a newer one")
		}
		must(t, check(newer))
		if err := check(Fence{Partition: 3}); !errors.Is(err, ErrFenced) {
			t.Fatalf("no lease passed: %v", err)
		}

		// The writer fence guards every consumer position write.
		pos := func() error {
			return s.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return s.SetPosition(ctx, tx, "room_events", 7) })
		}
		s.SetWriterFence(old)
		if err := pos(); !errors.Is(err, ErrFenced) {
			t.Fatalf("a fenced consumer wrote its position: %v", err)
		}
		s.SetWriterFence(newer)
		must(t, pos())
		if p, err := s.Position(ctx, "room_events"); err != nil || p != 7 {
			t.Fatalf("position %d %v", p, err)
		}
	})
}

func TestInboundTxns(t *testing.T) {
	forEach(t, func(t *testing.T, s *DB) {
		ctx := context.Background()
		r, claimed, err := s.ClaimInboundTxn(ctx, "a.org", "t1", 1000, 0)
		if err != nil || !claimed || r != nil {
			t.Fatalf("first claim %s %v %v", r, claimed, err)
		}
		// Being processed: not claimed again, no answer yet.
		if r, claimed, err := s.ClaimInboundTxn(ctx, "a.org", "t1", 1001, 0); err != nil || claimed || r != nil {
			t.Fatalf("claim in progress %s %v %v", r, claimed, err)
		}
		// Another origin's transaction of the same ID is its own.
		if _, claimed, err := s.ClaimInboundTxn(ctx, "b.org", "t1", 1001, 0); err != nil || !claimed {
			t.Fatalf("other origin %v %v", claimed, err)
		}
		// A claim left unanswered past staleBefore is taken over.
		if _, claimed, err := s.ClaimInboundTxn(ctx, "b.org", "t1", 5000, 2000); err != nil || !claimed {
			t.Fatalf("stale claim %v %v", claimed, err)
		}
		must(t, s.AnswerInboundTxn(ctx, "a.org", "t1", []byte(`{"$e":{}}`)))
		if r, claimed, err := s.ClaimInboundTxn(ctx, "a.org", "t1", 9000, 8000); err != nil || claimed || string(r) != `{"$e":{}}` {
			t.Fatalf("answered %s %v %v", r, claimed, err)
		}
		txns, err := s.InboundTxns(ctx, "a.org")
		if err != nil || len(txns) != 1 || txns[0].TxnID != "t1" || string(txns[0].Response) != `{"$e":{}}` {
			t.Fatalf("listed %+v %v", txns, err)
		}
		must(t, s.ForgetInboundTxns(ctx, 2000))
		if txns, err := s.InboundTxns(ctx, "a.org"); err != nil || len(txns) != 0 {
			t.Fatalf("after forgetting %+v %v", txns, err)
		}
		if txns, err := s.InboundTxns(ctx, "b.org"); err != nil || len(txns) != 1 {
			t.Fatalf("b.org's (received at 5000) %+v %v", txns, err)
		}
	})
}

func TestOpenIDTokens(t *testing.T) {
	forEach(t, func(t *testing.T, s *DB) {
		ctx := context.Background()
		must(t, s.StoreOpenIDToken(ctx, "h1", "@a:x", 2000, 1000))
		if u, err := s.OpenIDTokenUser(ctx, "h1", 1500); err != nil || u != "@a:x" {
			t.Fatalf("live token: %q %v", u, err)
		}
		if u, err := s.OpenIDTokenUser(ctx, "h1", 2001); err != nil || u != "" {
			t.Fatalf("expired token: %q %v", u, err)
		}
		if u, err := s.OpenIDTokenUser(ctx, "nope", 1500); err != nil || u != "" {
			t.Fatalf("unknown token: %q %v", u, err)
		}
		// Issuing forgets expired tokens.
		must(t, s.StoreOpenIDToken(ctx, "h2", "@b:x", 9000, 3000))
		var n int
		must(t, s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM federationapi_openid_tokens`).Scan(&n))
		if n != 1 {
			t.Fatalf("%d tokens kept, want 1", n)
		}
	})
}
