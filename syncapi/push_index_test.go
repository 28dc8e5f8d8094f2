package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/storage"
)

// fakePushers is a PushWaker whose users with a pusher are fixed.
type fakePushers struct {
	mu      sync.Mutex
	pushers map[string]bool
	woken   map[string]int
}

func (f *fakePushers) Notified(users []string, _ uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range users {
		f.woken[u]++
	}
}
func (f *fakePushers) Read(string) {}
func (f *fakePushers) PusherUsers(member func(string) bool) ([]string, uint64, bool) {
	var out []string
	for u := range f.pushers {
		if member(u) {
			out = append(out, u)
		}
	}
	return out, 0, true
}

// TestBigRoomNotificationCounts checks what members of a big room count
// and are pushed when a message visits only those push rules may treat
// differently: members on the default rules, one named by display name,
// one with own rules (the room muted), one ignoring a sender; counts
// through /sync, /notifications and the pusher path, and after a receipt.
func TestBigRoomNotificationCounts(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newTestSyncAPI(t, b.NewDSN(t))
			fp := &fakePushers{woken: map[string]int{}, pushers: map[string]bool{"@u5:test": true, "@own:test": true, "@ign:test": true, "@named:test": true}}
			s.pusher = fp
			r := bigRoom(t, s, "!big:test", 300)
			plain, named, own, ign := "@u5:test", "@named:test", "@own:test", "@ign:test"
			s.mustApply(t, 0, r.event(named, "m.room.member", sk(named), map[string]any{"membership": "join", "displayname": "Zebra Crossing"}))
			r.join(s, own)
			r.join(s, ign)
			r.say(s, "@u0:test", "warm") // the index is built with everyone on the defaults
			// After the index exists: own mutes the room, ign ignores @u0.
			s.push.set(own, []byte(`{"global":{"override":[{"rule_id":"!big:test","enabled":true,
				"conditions":[{"kind":"event_match","key":"room_id","pattern":"!big:test"}],"actions":[]}]}}`))
			s.ignores.set(ign, json.RawMessage(`{"ignored_users":{"@u0:test":{}}}`))
			fp.woken = map[string]int{}

			first := r.say(s, "@u0:test", "hello all")
			r.say(s, "@u1:test", "is zebra crossing here?")
			third := r.say(s, "@u0:test", "lunch")

			type want struct{ n, hl, listed, pushed, woken int }
			check := func(stage string, wants map[string]want) {
				t.Helper()
				for u, w := range wants {
					jr := testSync(t, s, u, nil, nil).Rooms.Join[r.id]
					if jr == nil {
						t.Fatalf("%s %s: room missing", stage, u)
					}
					if got := jr.UnreadNotifications; got.Notification != w.n || got.Highlight != w.hl {
						t.Errorf("%s %s: unread %d/%d, want %d/%d", stage, u, got.Notification, got.Highlight, w.n, w.hl)
					}
					ns, err := s.db.Notifications(ctx, u, 0, 100, false)
					must(t, err)
					if len(ns) != w.listed {
						t.Errorf("%s %s: /notifications lists %d, want %d", stage, u, len(ns), w.listed)
					}
					ps, err := s.PushNotificationsAfter(ctx, u, 0, 100)
					must(t, err)
					pushed := 0
					for _, p := range ps {
						if !p.Skip {
							pushed++
						}
					}
					if pushed != w.pushed {
						t.Errorf("%s %s: %d notifications to push, want %d", stage, u, pushed, w.pushed)
					}
					if w.woken >= 0 && fp.woken[u] != w.woken {
						t.Errorf("%s %s: pushers woken %d times, want %d", stage, u, fp.woken[u], w.woken)
					}
				}
			}
			// Counts include the warm-up message for all but own and ign
			// (their changes came after it).
			check("before receipt", map[string]want{
				plain:      {4, 0, 4, 4, 3},
				named:      {4, 1, 4, 4, 3},
				own:        {1, 0, 1, 1, 0},
				ign:        {2, 0, 2, 1, 1},
				"@u0:test": {1, 0, 1, 1, -1},
				"@u1:test": {3, 0, 3, 3, -1},
			})
			// ign's count holds the warm-up (sent before the ignore) and
			// the second message; the ignored sender's later ones are
			// neither counted nor stored for ign, and the warm-up, stored,
			// is not pushed (the handlers hide an ignored sender's events).
			firstEv, err := s.db.EventByID(ctx, nil, first)
			must(t, err)
			thirdEv, err := s.db.EventByID(ctx, nil, third)
			must(t, err)
			storeReceipts(t, s, storage.Receipt{RoomID: r.id, Type: "m.read", UserID: plain, EventID: first, EventPos: firstEv.Pos, TS: 1},
				storage.Receipt{RoomID: r.id, Type: "m.read", UserID: named, EventID: third, EventPos: thirdEv.Pos, TS: 1})
			check("after receipts", map[string]want{
				plain: {2, 0, 4, 4, -1},
				named: {0, 0, 4, 4, -1},
			})
		})
	}
}

// TestPushIndexAcrossDeltas: the index carried through state changes
// (display names set, changed and dropped, members leaving and joining,
// own rules) must equal one built from scratch for the same state.
func TestPushIndexAcrossDeltas(t *testing.T) {
	ctx := context.Background()
	s := newTestSyncAPI(t, t.TempDir()+"/idx.db")
	r := bigRoom(t, s, "!idx:test", 50)
	r.say(s, "@u0:test", "build")
	member := func(u string, content map[string]any) { s.mustApply(t, 0, r.event(u, "m.room.member", sk(u), content)) }
	member("@u1:test", map[string]any{"membership": "join", "displayname": "One"})
	member("@u2:test", map[string]any{"membership": "join", "displayname": "Two"})
	member("@u1:test", map[string]any{"membership": "join", "displayname": "Uno"})
	member("@u2:test", map[string]any{"membership": "join"})
	member("@u3:test", map[string]any{"membership": "leave"})
	member("@new:test", map[string]any{"membership": "join", "displayname": "Uno"})
	member("@remote:elsewhere", map[string]any{"membership": "join", "displayname": "Far"})
	r.say(s, "@u0:test", "patch")
	rs, err := s.cache.get(ctx, r.id)
	must(t, err)
	got := rs.push.Load()
	if got == nil || got.pending != nil {
		t.Fatalf("index not carried and patched: %+v", got)
	}
	fresh, err := s.buildPushIndex(ctx, rs, s.pushGen())
	must(t, err)
	set := func(m cowMap[string, struct{}]) []string { return slices.Sorted(maps.Keys(maps.Collect(m.all()))) }
	if a, b := set(got.plain), set(fresh.plain); !slices.Equal(a, b) {
		t.Errorf("plain: carried %v, built %v", a, b)
	}
	if a, b := set(got.individual), set(fresh.individual); !slices.Equal(a, b) {
		t.Errorf("individual: carried %v, built %v", a, b)
	}
	names := func(p *pushIndex) map[string][]string {
		out := map[string][]string{}
		for k, v := range p.byName.all() {
			out[k] = slices.Sorted(slices.Values(v))
		}
		return out
	}
	if a, b := names(got), names(fresh); !maps.EqualFunc(a, b, slices.Equal) || !maps.Equal(got.nameLens, fresh.nameLens) {
		t.Errorf("names: carried %v %v, built %v %v", a, got.nameLens, b, fresh.nameLens)
	}
	if _, ok := got.plain.get("@u3:test"); ok {
		t.Error("a member who left is still indexed")
	}
	if us, _ := got.byName.get("uno"); len(us) != 2 {
		t.Errorf("two members named Uno: %v", us)
	}
	// A user moving off the defaults rebuilds the index.
	s.push.set("@u4:test", []byte(`{"global":{"override":[]}}`))
	p, err := s.pushIndexOf(ctx, rs)
	must(t, err)
	if _, ok := p.individual.get("@u4:test"); !ok {
		t.Error("a user with own rules is not evaluated on their own")
	}
}

// TestPushIndexCarriedThroughJoins: a run of joins (more than an index
// may have pending) keeps the room's push index carried from state to
// state with only the last change pending, instead of dropping it and
// rebuilding it on every join.
func TestPushIndexCarriedThroughJoins(t *testing.T) {
	s := newTestSyncAPI(t, filepath.Join(t.TempDir(), "joins.db"))
	r := bigRoom(t, s, "!joins:test", 100)
	r.say(s, "@u0:test", "builds the index")
	for i := range 200 {
		r.join(s, fmt.Sprintf("@joiner%d:test", i))
	}
	rs, err := s.cache.get(context.Background(), "!joins:test")
	if err != nil {
		t.Fatal(err)
	}
	p := rs.push.Load()
	if p == nil || p.pending == nil || p.pending.n != 1 {
		t.Fatalf("push index after 200 joins: %+v, want one carried with the last join pending", p)
	}
	// And it is the index a rebuild gives.
	got, err := s.pushIndexOf(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.buildPushIndex(context.Background(), rs, s.pushGen())
	if err != nil {
		t.Fatal(err)
	}
	if got.plain.len() != want.plain.len() || got.individual.len() != want.individual.len() || got.plain.len() != 300 {
		t.Errorf("carried index: %d plain, %d individual; rebuilt: %d plain, %d individual",
			got.plain.len(), got.individual.len(), want.plain.len(), want.individual.len())
	}
}
