package api_test

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/rpc"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/roomserver/api"
)

type inputOnly interface {
	InputRoomEvents(ctx context.Context, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error)
}

// stuckFirst never answers its first call (as a process that died with
// the request), and answers the rest.
type stuckFirst struct {
	calls         atomic.Int32
	firstDeadline chan time.Time
	release       chan struct{}
	once          sync.Once
}

func (s *stuckFirst) InputRoomEvents(ctx context.Context, req *api.InputRoomEventsRequest) (*api.InputRoomEventsResponse, error) {
	if s.calls.Add(1) == 1 {
		dl, _ := ctx.Deadline()
		s.firstDeadline <- dl
		select {
		case <-s.release:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	}
	return &api.InputRoomEventsResponse{RoomID: "!answered:test"}, nil
}

func startInput(t *testing.T) (*stuckFirst, *rpc.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bus, err := stream.Connect(ctx, stream.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	impl := &stuckFirst{firstDeadline: make(chan time.Time, 1), release: make(chan struct{})}
	t.Cleanup(func() { impl.once.Do(func() { close(impl.release) }) })
	if err := rpc.Serve(ctx, bus.Conn(), "t", "roomserver", reflect.TypeOf((*inputOnly)(nil)).Elem(), impl); err != nil {
		t.Fatal(err)
	}
	return impl, rpc.NewClient(bus.Conn(), "t", "roomserver")
}

func TestRetryingClientResendsUnansweredIdempotentInput(t *testing.T) {
	impl, c := startInput(t)
	rc := &api.RetryingClient{RoomserverAPIClient: &api.RoomserverAPIClient{C: c}, Attempt: 200 * time.Millisecond}
	req := &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{
		Local:         &api.LocalEvent{RoomID: "!r:test", Sender: "@a:test", Type: "m.room.message"},
		TransactionID: &api.TransactionID{DeviceID: "D", TransactionID: "t1"},
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := rc.InputRoomEvents(ctx, req)
	if err != nil || resp == nil || resp.RoomID != "!answered:test" {
		t.Fatalf("got %+v, %v; want the second attempt's answer", resp, err)
	}
	if n := impl.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2", n)
	}
	// The unanswered attempt kept the caller's deadline, not the attempt's.
	if dl := <-impl.firstDeadline; time.Until(dl) < 5*time.Second {
		t.Fatalf("first attempt's server deadline %v away; want the caller's (about 20 s)", time.Until(dl))
	}
}

func TestRetryingClientSendsOtherInputOnce(t *testing.T) {
	impl, c := startInput(t)
	rc := &api.RetryingClient{RoomserverAPIClient: &api.RoomserverAPIClient{C: c}, Attempt: 100 * time.Millisecond}
	// A state event without a transaction ID could be stored twice.
	sk := ""
	req := &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{
		Local: &api.LocalEvent{RoomID: "!r:test", Sender: "@a:test", Type: "m.room.topic", StateKey: &sk},
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := rc.InputRoomEvents(ctx, req); err == nil {
		t.Fatal("want the unanswered call's error")
	}
	if n := impl.calls.Load(); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}
