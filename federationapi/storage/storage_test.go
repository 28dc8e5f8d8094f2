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
		if err := s.Ack(ctx, []int64{batch[0].ID, batch[1].ID, batch[2].ID}); err != nil {
			t.Fatal(err)
		}
		batch, err = s.NextBatch(ctx, "a.org", 50, 100)
		if err != nil || len(batch) != 1 {
			t.Fatalf("left %d %v", len(batch), err)
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
