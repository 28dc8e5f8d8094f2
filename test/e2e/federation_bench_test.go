package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// Federation figures (AXON_FED_BENCH=1): how long B takes to join a room
// on A that has many members, state events and messages, and how many
// events per second reach B through /send. Sizes: AXON_FED_BENCH_MEMBERS,
// _STATE, _MESSAGES, _SEND.
func TestFederationBenchmark(t *testing.T) {
	if os.Getenv("AXON_FED_BENCH") == "" {
		t.Skip("set AXON_FED_BENCH=1 to measure")
	}
	ctx := context.Background()
	members, stateN, msgs, sendN := envInt("AXON_FED_BENCH_MEMBERS", 100), envInt("AXON_FED_BENCH_STATE", 300),
		envInt("AXON_FED_BENCH_MESSAGES", 500), envInt("AXON_FED_BENCH_SEND", 1000)
	opts := testserver.Options{Backend: os.Getenv("AXON_FED_BENCH_BACKEND")}
	a, b := fedStart(t, opts, "127.0.0.1"), fedStart(t, opts, "127.0.0.2")
	alice, bob := a.Register("alice", "password123"), b.Register("bob", "password123")
	room := roomsCreate(t, alice, &mautrix.ReqCreateRoom{Preset: "public_chat"})

	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range members {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Not a.Register: it calls t.Fatal, which must not run here.
			u := a.Client()
			resp, err := u.RegisterDummy(ctx, &mautrix.ReqRegister{Username: fmt.Sprintf("member%d", i), Password: "password123"})
			if err != nil {
				t.Error(err)
				return
			}
			u.UserID, u.AccessToken = resp.UserID, resp.AccessToken
			if _, err := u.JoinRoomByID(ctx, room); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i := range stateN {
		if _, err := alice.SendStateEvent(ctx, room, event.NewEventType("org.axon.bench"), strconv.Itoa(i), map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range msgs {
		syncSend(t, alice, room, fmt.Sprintf("history %d", i))
	}
	t.Logf("setup: %d members, %d extra state events, %d messages in %s", members+1, stateN, msgs, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if _, err := bob.JoinRoom(ctx, room.String(), &mautrix.ReqJoinRoom{Via: []string{a.Cfg.ServerName}}); err != nil {
		t.Fatalf("join: %v", err)
	}
	joinTook := time.Since(start)
	bs := newFedSyncer(t, bob)
	bs.until(60*time.Second, "room in B's sync", func() bool { return bs.membershipOf(room, bob.UserID) == "join" })
	t.Logf("remote join: /join returned after %s, room in B's /sync after %s", joinTook.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	ids := make([]string, sendN)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < sendN; i += 8 {
				resp, err := alice.SendText(ctx, room, fmt.Sprintf("live %d", i))
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = resp.EventID.String()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	sent := time.Since(start)
	testutil.Eventually(t, 5*time.Minute, "every live event on B", func() bool {
		evs, err := b.Server.Rooms.QueryEvents(ctx, matrixid.From[matrixid.EventID](ids))
		return err == nil && len(evs) == sendN
	})
	took := time.Since(start)
	t.Logf("live: %d messages sent on A in %s (%.0f/s); all on B after %s (%.0f events/s through /send)",
		sendN, sent.Round(time.Millisecond), float64(sendN)/sent.Seconds(), took.Round(time.Millisecond), float64(sendN)/took.Seconds())
}
