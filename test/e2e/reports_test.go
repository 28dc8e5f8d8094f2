package e2e

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestReports: room, event and user reports are stored with reporter,
// reason, score and time; a report about a room the reporter is not in
// (or that does not exist) is answered exactly like any other; reports
// are rate-limited per user.
func TestReports(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = func(cfg *config.Config) {
			cfg.RateLimits.Enabled = true
			cfg.RateLimits.Reports = config.Rate{PerSecond: 0.001, Burst: 5}
		}
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		room := syncRoom(t, alice, bob)
		ev := syncSend(t, bob, room, "spam")
		private := roomsCreate(t, bob, nil)
		secret := syncSend(t, bob, private, "secret")

		must200 := func(what string, r roomsRaw) {
			t.Helper()
			if r.Status != 200 || len(r.Body) != 0 {
				t.Fatalf("%s: %d %v", what, r.Status, r.Body)
			}
		}
		must200("event report", roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+room.String()+"/report/"+ev.String(), map[string]any{"reason": "spam", "score": -100}))
		must200("room report", roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+room.String()+"/report", map[string]any{"reason": ""}))
		must200("user report", roomsDo(t, alice, "POST", "/_matrix/client/v3/users/"+bob.UserID.String()+"/report", map[string]any{"reason": "rude"}))
		// Not in that room / no such room: the same answer, no leak.
		must200("report in a room alice is not in", roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+private.String()+"/report/"+secret.String(), map[string]any{"reason": "?"}))
		must200("report of an unknown room", roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/!nope:example.org/report", map[string]any{"reason": "?"}))

		got, err := inst.Server.Reports.List(context.Background(), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("stored %d reports, want 5: %+v", len(got), got)
		}
		first := got[len(got)-1]
		if first.Reporter != alice.UserID.String() || first.RoomID != room.String() || first.EventID != ev.String() || first.Reason != "spam" ||
			first.Score == nil || *first.Score != -100 || first.TS == 0 {
			t.Fatalf("event report stored as %+v", first)
		}
		if u := got[len(got)-3]; u.UserID != bob.UserID.String() || u.Reason != "rude" {
			t.Fatalf("user report stored as %+v", u)
		}

		// The sixth report within the burst is refused.
		r := roomsDo(t, alice, "POST", "/_matrix/client/v3/rooms/"+room.String()+"/report", map[string]any{"reason": "again"})
		if r.Status != 429 || r.errcode() != "M_LIMIT_EXCEEDED" {
			t.Fatalf("rate limit: %d %v", r.Status, r.Body)
		}
		// Bad input (bob still has his own budget).
		for what, c := range map[string]struct {
			path string
			body any
			code string
		}{
			"no reason":   {"/_matrix/client/v3/rooms/" + room.String() + "/report", map[string]any{}, "M_MISSING_PARAM"},
			"bad score":   {"/_matrix/client/v3/rooms/" + room.String() + "/report/" + ev.String(), map[string]any{"score": 5}, "M_INVALID_PARAM"},
			"bad user ID": {"/_matrix/client/v3/users/bob/report", map[string]any{"reason": ""}, "M_INVALID_PARAM"},
			"reason type": {"/_matrix/client/v3/rooms/" + room.String() + "/report", map[string]any{"reason": 5}, "M_BAD_JSON"},
			"not json":    {"/_matrix/client/v3/rooms/" + room.String() + "/report", "{", "M_NOT_JSON"},
		} {
			if r := roomsDo(t, bob, "POST", c.path, c.body); r.Status != 400 || r.errcode() != c.code {
				t.Errorf("%s: %d %v, want 400 %s", what, r.Status, r.Body, c.code)
			}
		}
	})
}
