package storage

import (
	"context"
	"fmt"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

func forEach(t *testing.T, fn func(t *testing.T, d *DB)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := istorage.Open(ctx, b.NewDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx, "appservice", Migrations); err != nil {
				t.Fatal(err)
			}
			fn(t, New(db))
		})
	}
}

func enqueue(t *testing.T, d *DB, stream string, seq uint64, items ...Item) {
	t.Helper()
	err := d.WriteTx(context.Background(), func(tx *istorage.Tx) error {
		if err := d.Enqueue(context.Background(), tx, items); err != nil {
			return err
		}
		return d.SetConsumerSeq(context.Background(), tx, stream, seq)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func bodies(items []Item) string {
	s := ""
	for _, it := range items {
		s += it.Kind + ":" + string(it.Body) + " "
	}
	return s
}

func TestQueueTransactions(t *testing.T) {
	forEach(t, func(t *testing.T, d *DB) {
		ctx := context.Background()
		var items []Item
		for i := range 5 {
			items = append(items, Item{AppserviceID: "a", Kind: KindEvent, Body: fmt.Appendf(nil, "%d", i)})
		}
		items = append(items, Item{AppserviceID: "b", Kind: KindEphemeral, Body: []byte(`"b0"`)})
		enqueue(t, d, "room_events", 7, items...)
		if seq, err := d.ConsumerSeq(ctx, "room_events"); err != nil || seq != 7 {
			t.Fatalf("position %d %v", seq, err)
		}
		if id, got, err := d.InFlight(ctx, "a"); err != nil || id != 0 || got != nil {
			t.Fatalf("nothing should be in flight: %d %v %v", id, got, err)
		}
		txn1, got, err := d.StartTxn(ctx, "a", 3)
		if err != nil || txn1 != 1 || bodies(got) != "event:0 event:1 event:2 " {
			t.Fatalf("first txn %d %q %v", txn1, bodies(got), err)
		}
		// A restart finds the same transaction with the same items, even
		// after more was queued.
		enqueue(t, d, "room_events", 8, Item{AppserviceID: "a", Kind: KindToDevice, Body: []byte("5")})
		again, got2, err := d.InFlight(ctx, "a")
		if err != nil || again != txn1 || bodies(got2) != bodies(got) {
			t.Fatalf("in flight %d %q %v", again, bodies(got2), err)
		}
		if n, err := d.QueueDepth(ctx, "a"); err != nil || n != 6 {
			t.Fatalf("depth %d %v", n, err)
		}
		if err := d.Ack(ctx, "a", txn1); err != nil {
			t.Fatal(err)
		}
		if id, _, _ := d.InFlight(ctx, "a"); id != 0 {
			t.Fatalf("acked txn still in flight: %d", id)
		}
		txn2, got, err := d.StartTxn(ctx, "a", 100)
		if err != nil || txn2 != 2 || bodies(got) != "event:3 event:4 to_device:5 " {
			t.Fatalf("second txn %d %q %v", txn2, bodies(got), err)
		}
		// Another appservice has its own queue and transaction IDs.
		txnB, got, err := d.StartTxn(ctx, "b", 100)
		if err != nil || txnB != 1 || bodies(got) != `ephemeral:"b0" ` {
			t.Fatalf("b txn %d %q %v", txnB, bodies(got), err)
		}
		if err := d.Ack(ctx, "a", txn2); err != nil {
			t.Fatal(err)
		}
		if id, got, err := d.StartTxn(ctx, "a", 100); err != nil || id != 0 || got != nil {
			t.Fatalf("empty queue: %d %v %v", id, got, err)
		}
		// IDs never repeat, even once the queue was empty.
		enqueue(t, d, "room_events", 9, Item{AppserviceID: "a", Kind: KindEvent, Body: []byte("6")})
		if id, _, err := d.StartTxn(ctx, "a", 100); err != nil || id != 3 {
			t.Fatalf("third txn %d %v", id, err)
		}
	})
}

func TestStartPosition(t *testing.T) {
	forEach(t, func(t *testing.T, d *DB) {
		ctx := context.Background()
		if seq, err := d.StartPosition(ctx, "typing", 42); err != nil || seq != 42 {
			t.Fatalf("first start %d %v", seq, err)
		}
		if seq, err := d.StartPosition(ctx, "typing", 99); err != nil || seq != 42 {
			t.Fatalf("resume %d %v", seq, err)
		}
		enqueue(t, d, "typing", 50)
		if seq, err := d.StartPosition(ctx, "typing", 99); err != nil || seq != 50 {
			t.Fatalf("after progress %d %v", seq, err)
		}
		enqueue(t, d, "presence", 9)
		if err := d.ForgetPositions(ctx, "presence"); err != nil {
			t.Fatal(err)
		}
		if seq, err := d.StartPosition(ctx, "presence", 77); err != nil || seq != 77 {
			t.Fatalf("forgotten stream starts at the end: %d %v", seq, err)
		}
		if seq, err := d.StartPosition(ctx, "typing", 99); err != nil || seq != 50 {
			t.Fatalf("other streams untouched: %d %v", seq, err)
		}
		if err := d.ForgetPositions(ctx); err != nil {
			t.Fatal(err)
		}
		if seq, err := d.StartPosition(ctx, "typing", 0); err != nil || seq != 0 {
			t.Fatalf("empty stream %d %v", seq, err)
		}
		if seq, err := d.StartPosition(ctx, "typing", 7); err != nil || seq != 0 {
			t.Fatalf("a stored 0 is a position too: %d %v", seq, err)
		}
	})
}
