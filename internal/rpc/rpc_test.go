package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/rpc"
	"github.com/axon-hs/axon/internal/rpc/gen/gentest"
	"github.com/axon-hs/axon/internal/rpc/rpctest"
	"github.com/axon-hs/axon/internal/stream"
)

type greeter struct{}

func (greeter) Greet(ctx context.Context, name string, times int) (string, error) {
	return strings.Repeat("hi "+name+" ", times), nil
}

func (greeter) Send(ctx context.Context, card *rpctest.Card) (bool, string, error) {
	return len(card.Tags) > 0, card.To + "@" + card.At.UTC().Format(time.RFC3339), nil
}

func (greeter) Fail(ctx context.Context, kind string) error {
	switch kind {
	case "sentinel":
		return fmt.Errorf("wrapped: %w", rpctest.ErrNobody)
	case "typed":
		return &rpctest.CodedError{Code: "E42"}
	case "panic":
		panic("boom")
	}
	return errors.New("plain failure")
}

func (greeter) Slow(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestRoundTrip(t *testing.T) {
	rpc.RegisterSentinel("rpctest.nobody", rpctest.ErrNobody)
	rpc.RegisterErrorType("rpctest.coded", &rpctest.CodedError{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus, err := stream.Connect(ctx, stream.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	iface := reflect.TypeOf((*rpctest.Greeter)(nil)).Elem()
	if err := rpc.Serve(ctx, bus.Conn(), "t", "greeter", iface, greeter{}); err != nil {
		t.Fatal(err)
	}
	var g rpctest.Greeter = &rpctest.GreeterClient{C: rpc.NewClient(bus.Conn(), "t", "greeter")}

	if s, err := g.Greet(ctx, "bob", 2); err != nil || s != "hi bob hi bob " {
		t.Fatalf("Greet = %q, %v", s, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok, id, err := g.Send(ctx, &rpctest.Card{To: "amy", Tags: []string{"x"}, At: at})
	if err != nil || !ok || id != "amy@2026-01-02T03:04:05Z" {
		t.Fatalf("Send = %v %q %v", ok, id, err)
	}
	if err := g.Fail(ctx, "sentinel"); !errors.Is(err, rpctest.ErrNobody) {
		t.Fatalf("sentinel lost: %v", err)
	}
	var coded *rpctest.CodedError
	if err := g.Fail(ctx, "typed"); !errors.As(err, &coded) || coded.Code != "E42" {
		t.Fatalf("typed error lost: %v", err)
	}
	if err := g.Fail(ctx, "panic"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic not reported: %v", err)
	}
	if err := g.Fail(ctx, "plain"); err == nil || err.Error() != "plain failure" {
		t.Fatalf("plain error: %v", err)
	}
	// The caller's deadline travels with the call.
	sctx, scancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer scancel()
	if err := g.Slow(sctx); err == nil {
		t.Fatal("slow call did not time out")
	}
}

// TestGeneratedClientUpToDate fails when rpctest's interface changed but
// the generated client was not regenerated.
func TestGeneratedClientUpToDate(t *testing.T) {
	gentest.CheckUpToDate(t, "rpctest", "Greeter")
}
