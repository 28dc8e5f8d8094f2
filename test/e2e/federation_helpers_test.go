package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// fedStart starts a federating server on a loopback host of its own
// (server ACLs match hosts, not ports).
func fedStart(t testing.TB, opts testserver.Options, host string) *testserver.Instance {
	t.Helper()
	opts.Configure = testserver.FederatedAt(t, host)
	return testserver.Start(t, opts)
}

// fedPair starts two federating servers, A on 127.0.0.1 and B on
// 127.0.0.2, with default options.
func fedPair(t testing.TB) (a, b *testserver.Instance) {
	t.Helper()
	return fedStart(t, testserver.Options{}, "127.0.0.1"), fedStart(t, testserver.Options{}, "127.0.0.2")
}

// fedSyncer follows one client's /sync, accumulating what it sees.
type fedSyncer struct {
	t      testing.TB
	c      *mautrix.Client
	since  string
	bodies map[id.RoomID][]string
	events map[id.RoomID][]*event.Event
	invite map[id.RoomID]bool
	left   map[id.RoomID]bool
}

func newFedSyncer(t testing.TB, c *mautrix.Client) *fedSyncer {
	return &fedSyncer{t: t, c: c, bodies: map[id.RoomID][]string{}, events: map[id.RoomID][]*event.Event{},
		invite: map[id.RoomID]bool{}, left: map[id.RoomID]bool{}}
}

func (s *fedSyncer) once(timeoutMS int) {
	s.t.Helper()
	resp, err := s.c.SyncRequest(context.Background(), timeoutMS, s.since, "", false, "")
	if err != nil {
		s.t.Fatalf("sync as %s: %v", s.c.UserID, err)
	}
	s.since = resp.NextBatch
	for roomID, r := range resp.Rooms.Join {
		s.events[roomID] = append(s.events[roomID], r.Timeline.Events...)
		s.bodies[roomID] = append(s.bodies[roomID], syncBodies(r.Timeline.Events)...)
		delete(s.invite, roomID)
	}
	for roomID := range resp.Rooms.Invite {
		s.invite[roomID] = true
	}
	for roomID, r := range resp.Rooms.Leave {
		s.left[roomID] = true
		delete(s.invite, roomID)
		s.events[roomID] = append(s.events[roomID], r.Timeline.Events...)
	}
}

// until syncs until cond holds.
func (s *fedSyncer) until(within time.Duration, what string, cond func() bool) {
	s.t.Helper()
	testutil.Eventually(s.t, within, fmt.Sprintf("%s, as seen by %s", what, s.c.UserID), func() bool {
		if cond() {
			return true
		}
		s.once(1000)
		return cond()
	})
}

func (s *fedSyncer) hasBody(roomID id.RoomID, body string) bool {
	return slices.Contains(s.bodies[roomID], body)
}

// membershipOf is the last membership of userID s saw in the room.
func (s *fedSyncer) membershipOf(roomID id.RoomID, userID id.UserID) string {
	m := ""
	for _, ev := range s.events[roomID] {
		if ev.Type == event.StateMember && ev.StateKey != nil && *ev.StateKey == string(userID) {
			var c struct {
				Membership string `json:"membership"`
			}
			_ = json.Unmarshal(ev.Content.VeryRaw, &c)
			m = c.Membership
		}
	}
	return m
}
