package stream_test

import (
	"context"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestHeadFollowsAcknowledgements: with the embedded server, Head starts
// from what an earlier run left in the store, then follows every
// acknowledged publish (single and batched) without asking the server,
// and after the stream is deleted and made again it reads the new
// numbering every time instead of remembering the old one.
func TestHeadFollowsAcknowledgements(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() (*stream.Bus, *stream.Stream) {
		t.Helper()
		bus, err := stream.Connect(ctx, stream.Config{StoreDir: dir, Prefix: "headtest"})
		if err != nil {
			t.Fatal(err)
		}
		s, err := bus.Stream(ctx, "h", time.Hour, 0)
		if err != nil {
			bus.Close()
			t.Fatal(err)
		}
		return bus, s
	}
	wantHead := func(s *stream.Stream, want uint64, fromMemory bool) {
		t.Helper()
		head, err := s.Head(ctx)
		if err != nil || head != want {
			t.Fatalf("Head = %d, %v; want %d", head, err, want)
		}
		if known, ok := s.KnownHead(); ok != fromMemory || (ok && known != want) {
			t.Fatalf("KnownHead = %d, %v; want %d, %v", known, ok, want, fromMemory)
		}
		if last, err := s.LastSeq(ctx); err != nil || last != want {
			t.Fatalf("LastSeq = %d, %v; want %d", last, err, want)
		}
	}

	bus, s := open()
	for range 3 {
		if _, err := s.Publish(ctx, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	bus.Close()

	bus, s = open() // a new run over the same store
	defer bus.Close()
	if _, ok := s.KnownHead(); ok {
		t.Fatal("KnownHead answered before the stream was read")
	}
	wantHead(s, 3, true)
	if _, err := s.Publish(ctx, []byte("y"), nil); err != nil {
		t.Fatal(err)
	}
	wantHead(s, 4, true)
	if n, err := s.PublishBatch(ctx, []stream.OutMsg{{Data: []byte("a")}, {Data: []byte("b")}}); err != nil || n != 2 {
		t.Fatalf("PublishBatch = %d, %v", n, err)
	}
	wantHead(s, 6, true)
	// A second handle on the same stream shares what was acknowledged.
	other, err := bus.Stream(ctx, "h", time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantHead(other, 6, true)

	if err := bus.DeleteStreams(ctx); err != nil {
		t.Fatal(err)
	}
	// The embedded server removes a deleted stream's store after it
	// answers, and refuses to create the stream again until then.
	testutil.Eventually(t, 10*time.Second, "stream created again after its deletion", func() bool {
		s, err = bus.Stream(ctx, "h", time.Hour, 0)
		return err == nil
	})
	if _, err := s.Publish(ctx, []byte("z"), nil); err != nil {
		t.Fatal(err)
	}
	wantHead(s, 1, false)
}
