package userapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/stream/natstest"
)

// TestAccountDataAnsweredWhileLogDown: with NATS down, an account data
// write is answered from its commit (it used to block 30 s and fail
// although stored), and is published once the log is back.
func TestAccountDataAnsweredWhileLogDown(t *testing.T) {
	var nats *natstest.Server
	forEachBackendOnBus(t, func(t *testing.T) stream.Config {
		nats = natstest.Start(t)
		return stream.Config{URLs: []string{nats.URL()}}
	}, func(t *testing.T, u *UserAPI) {
		ctx := context.Background()
		userID, err := u.CreateAccount(ctx, "carol", "password123", false)
		if err != nil {
			t.Fatal(err)
		}
		s, err := u.base.Stream(ctx, stream.AccountData)
		if err != nil {
			t.Fatal(err)
		}
		nats.Stop()
		if err := u.SetAccountData(ctx, userID, "", "org.example.down", json.RawMessage(`{"n":1}`)); err != nil {
			t.Fatalf("account data write while the log is down: %v", err)
		}
		set, err := u.AllAccountData(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		if string(set.Global["org.example.down"]) != `{"n":1}` {
			t.Fatalf("stored account data: %s", set.Global["org.example.down"])
		}
		nats.Restart()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		got := consumeAccountData(cctx, t, s)
		select {
		case out := <-got:
			if out.Type != "org.example.down" || string(out.Content) != `{"n":1}` {
				t.Fatalf("published %+v", out)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("account data written while the log was down never published")
		}
	})
}
