package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// must fails the test on a set-up error.
var must = testutil.Must

var syncCtx = context.Background()

// syncOnce does one /sync and fails the test on error.
func syncOnce(t testing.TB, c *mautrix.Client, since string, timeout int, filter string) *mautrix.RespSync {
	t.Helper()
	resp, err := c.SyncRequest(syncCtx, timeout, since, filter, false, "")
	if err != nil {
		t.Fatalf("sync (since %q): %v", since, err)
	}
	return resp
}

// syncRoom creates a room as creator and joins others to it.
func syncRoom(t testing.TB, creator *mautrix.Client, joiners ...*mautrix.Client) id.RoomID {
	t.Helper()
	resp, err := creator.CreateRoom(syncCtx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
	if err != nil {
		t.Fatalf("createRoom: %v", err)
	}
	for _, j := range joiners {
		if _, err := j.JoinRoomByID(syncCtx, resp.RoomID); err != nil {
			t.Fatalf("join: %v", err)
		}
	}
	return resp.RoomID
}

func syncSend(t testing.TB, c *mautrix.Client, room id.RoomID, body string) id.EventID {
	t.Helper()
	resp, err := c.SendText(syncCtx, room, body)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return resp.EventID
}

// syncBodies returns the bodies of m.room.message events in a timeline.
func syncBodies(evs []*event.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type == event.EventMessage {
			var c struct {
				Body string `json:"body"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			out = append(out, c.Body)
		}
	}
	return out
}

// syncUntil syncs (long-polling) until cond holds for the accumulated
// responses or the deadline passes; it returns the last next_batch.
func syncUntil(t testing.TB, c *mautrix.Client, since string, within time.Duration, cond func(*mautrix.RespSync) bool) string {
	t.Helper()
	testutil.Eventually(t, within, "a /sync response meeting the condition", func() bool {
		resp := syncOnce(t, c, since, 1000, "")
		since = resp.NextBatch
		return cond(resp)
	})
	return since
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// parkedLongPolls is the server's gauge of sync long-polls waiting for
// news (the test process holds the servers, so it reads the registry
// directly).
func parkedLongPolls(t testing.TB) int {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "axon_sync_long_polls_waiting" {
			return int(f.GetMetric()[0].GetGauge().GetValue())
		}
	}
	t.Fatal("gauge axon_sync_long_polls_waiting not registered")
	return 0
}
