package syncapi

import (
	"context"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
)

// TestKnownHeadsFollowPublishes: with the embedded server, once the
// heads were read, read-your-writes takes them from memory, and they
// include every acknowledged publish since (a /sync must wait for a
// message sent before it even though nobody asked the server again).
func TestKnownHeadsFollowPublishes(t *testing.T) {
	ctx := context.Background()
	s := newTestSyncAPI(t, storagetest.Backends()[0].NewDSN(t))
	bus, err := stream.Connect(ctx, stream.Config{StoreDir: t.TempDir(), Prefix: "catchuptest"})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	st, err := bus.Stream(ctx, stream.RoomEvents, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.streams = map[string]*stream.Stream{stream.RoomEvents: st}
	s.heads = &headReads{read: s.readHeads, known: s.knownHeads}
	publish := func() {
		t.Helper()
		if _, err := st.Publish(ctx, []byte("{}"), nil); err != nil {
			t.Fatal(err)
		}
	}
	publish()
	if _, known := s.knownHeads(); known {
		t.Fatal("heads known before they were ever read")
	}
	s.progress.set(stream.RoomEvents, 1)
	s.waitCaughtUp(ctx) // reads the heads once
	publish()
	publish()
	heads, known := s.knownHeads()
	if !known || heads[0] != 3 {
		t.Fatalf("knownHeads = %v, %v; want room events at 3", heads, known)
	}
	s.progress.set(stream.RoomEvents, 3)
	s.waitCaughtUp(ctx) // caught up: returns at once
}
