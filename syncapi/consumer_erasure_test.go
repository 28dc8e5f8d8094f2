package syncapi

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// TestErasure: an erasure on the account_data stream redacts the user's
// stored messages, not their state events nor others' messages; a
// message of theirs applied afterwards (a room_events backlog) is stored
// redacted; the set survives a restart; applying the erasure twice is
// harmless.
func TestErasure(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.NewDSN(t)
			s := newTestSyncAPI(t, dsn)
			alice, bob := "@alice:test", "@bob:test"
			r := newTestRoom(t, "!room:test")
			r.create(s, alice)
			r.join(s, bob)
			name := r.event(alice, "m.room.name", sk(""), map[string]any{"name": "kept"})
			s.mustApply(t, 0, name)
			before := r.say(s, alice, "before")
			bobs := r.say(s, bob, "bob's")

			msg, err := json.Marshal(uapi.OutputAccountData{UserID: alice, Erased: true})
			must(t, err)
			for range 2 {
				must(t, s.onAccountDataMsg(ctx, stream.Message{Seq: 7, Data: msg}))
			}
			after := r.say(s, alice, "after")

			content := func(eventID string) string {
				t.Helper()
				ev, err := s.db.EventByID(ctx, nil, eventID)
				must(t, err)
				if ev == nil {
					t.Fatalf("event %s not stored", eventID)
				}
				return gjson.GetBytes(ev.JSON, "content").Raw
			}
			for _, id := range []string{before, after} {
				if c := content(id); c != "{}" {
					t.Fatalf("erased user's message %s has content %s", id, c)
				}
			}
			if c := content(bobs); gjson.Get(c, "body").Str != "bob's" {
				t.Fatalf("other user's message: %s", c)
			}
			if c := content(name.EventID); gjson.Get(c, "name").Str != "kept" {
				t.Fatalf("erased user's state event: %s", c)
			}
			restarted := newTestSyncAPI(t, dsn)
			must(t, restarted.loadErasedUsers(ctx))
			if !restarted.erased.set[alice] || restarted.erased.set[bob] {
				t.Fatalf("erased set after restart: %v", restarted.erased.set)
			}
		})
	}
}

// BenchmarkErasure: one erasure of a user with 2,000 stored messages
// (among as many of another user), on each engine. The erasure holds the
// write transaction for its whole run.
func BenchmarkErasure(b *testing.B) {
	for _, be := range storagetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			for i := range b.N {
				b.StopTimer()
				s := newTestSyncAPI(b, be.NewDSN(b))
				alice, bob := "@alice:test", "@bob:test"
				r := newTestRoom(b, "!room:test")
				r.create(s, alice)
				r.join(s, bob)
				for range 2000 {
					r.say(s, alice, "a message to erase")
					r.say(s, bob, "a message to keep")
				}
				msg, err := json.Marshal(uapi.OutputAccountData{UserID: alice, Erased: true})
				must(b, err)
				b.StartTimer()
				must(b, s.onAccountDataMsg(ctx, stream.Message{Seq: uint64(i + 1), Data: msg}))
			}
		})
	}
}
