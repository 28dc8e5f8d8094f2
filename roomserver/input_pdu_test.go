package roomserver

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// remote builds PDUs as another server would.
type remote struct {
	t       testing.TB
	rs      *RoomServer
	key     ed25519.PrivateKey
	version string // room version of the events it builds; "10" unless set
}

func newRemote(t *testing.T, rs *RoomServer) *remote {
	_, key, _ := ed25519.GenerateKey(nil)
	return &remote{t: t, rs: rs, key: key, version: "10"}
}

// stateIDs returns current state event IDs for tuples (type, state key).
func (r *remote) stateIDs(roomID string, tuples ...api.StateKey) []string {
	evs, err := r.rs.QueryCurrentState(context.Background(), matrixid.RoomID(roomID), tuples)
	if err != nil {
		r.t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.EventID())
	}
	return ids
}

func (r *remote) build(roomID, sender, typ string, stateKey *string, content any, prev, auth []string, depth int64, ts time.Time) *api.Event {
	r.t.Helper()
	ev, err := r.tryBuild(roomID, sender, typ, stateKey, content, prev, auth, depth, ts)
	if err != nil {
		r.t.Fatal(err)
	}
	return ev
}

func (r *remote) tryBuild(roomID, sender, typ string, stateKey *string, content any, prev, auth []string, depth int64, ts time.Time) (*api.Event, error) {
	c, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	v := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersion(r.version))
	b := v.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{
		SenderID: sender, RoomID: roomID, Type: typ, StateKey: stateKey, Content: c,
		PrevEvents: prev, AuthEvents: auth, Depth: depth,
	})
	ev, err := b.Build(ts, spec.ServerName("other.test"), "ed25519:o", r.key)
	if err != nil {
		return nil, err
	}
	return api.NewEvent(ev), nil
}

func (r *remote) input(ev *api.Event) api.InputResult {
	r.t.Helper()
	resp, err := r.rs.InputRoomEvents(context.Background(), &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{Kind: api.KindNew, Event: ev}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.Results[0]
}

// join has user join roomID on top of its current extremities, citing
// the state at auth (the create event is implied from room v12 on).
func (r *remote) join(roomID, user string, auth ...api.StateKey) *api.Event {
	r.t.Helper()
	ext, err := r.rs.QueryForwardExtremities(context.Background(), matrixid.RoomID(roomID))
	if err != nil {
		r.t.Fatal(err)
	}
	join := r.build(roomID, user, "m.room.member", strp(user), map[string]string{"membership": "join"},
		matrixid.Strings(ext), r.stateIDs(roomID, auth...), 10, time.Now())
	if res := r.input(join); res.Err != nil {
		r.t.Fatal(res.Err)
	}
	return join
}

var (
	tCreate = api.StateKey{Type: "m.room.create"}
	tPL     = api.StateKey{Type: "m.room.power_levels"}
	tJR     = api.StateKey{Type: "m.room.join_rules"}
)

func TestSoftFail(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, pub := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
				matrixid.Strings(ext), rem.stateIDs(roomID, tCreate, tPL, tJR), 10, time.Now())
			if res := rem.input(join); res.Err != nil || res.SoftFailed {
				t.Fatalf("remote join: %+v", res)
			}
			if m, _, err := rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(bob)); err != nil || m != "join" {
				t.Fatalf("bob membership %q", m)
			}
			// Alice bans bob; bob, not yet aware, sends on top of his join.
			if res := send(t, rs, local(roomID, alice, "m.room.member", strp(bob), map[string]string{"membership": "ban"})); res.Err != nil {
				t.Fatal(res.Err)
			}
			tipsBefore, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			outputsBefore := len(pub.outputs())
			msg := rem.build(roomID, bob, "m.room.message", nil, map[string]string{"body": "am I banned?"},
				[]string{join.EventID()}, append(rem.stateIDs(roomID, tCreate, tPL), join.EventID()), 12, time.Now())
			res := rem.input(msg)
			if res.Err != nil || !res.SoftFailed {
				t.Fatalf("expected soft-fail, got %+v", res)
			}
			if len(pub.outputs()) != outputsBefore {
				t.Fatal("soft-failed event was output")
			}
			tips, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			if len(tips) != 1 || tips[0] != tipsBefore[0] {
				t.Fatalf("soft-failed event moved the extremities: %v", tips)
			}
			if evs, err := rs.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(msg.EventID())}); err != nil || len(evs) != 0 {
				t.Fatal("soft-failed event served")
			}
			// An event failing its own auth events is rejected outright.
			forged := rem.build(roomID, "@mallory:other.test", "m.room.message", nil, map[string]string{"body": "x"},
				matrixid.Strings(tips), rem.stateIDs(roomID, tCreate, tPL), 13, time.Now())
			if res := rem.input(forged); res.Err == nil || res.Err.Code != api.CodeForbidden {
				t.Fatalf("forged: %+v", res)
			}
		})
	}
}

// TestForkStateResolution: a remote branch off an old event conflicts
// with local state; the merge resolves it with state res v2 and the next
// local event heals the DAG to one extremity.
func TestForkStateResolution(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, pub := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			// Give bob power 100 and let him join.
			send(t, rs, local(roomID, alice, "m.room.power_levels", strp(""), map[string]any{"users": map[string]int{alice: 100, bob: 100}}))
			ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
				matrixid.Strings(ext), rem.stateIDs(roomID, tCreate, tPL, tJR), 10, time.Now())
			if res := rem.input(join); res.Err != nil {
				t.Fatal(res.Err)
			}
			forkPoint := join.EventID()
			// Local branch: alice names the room.
			if res := send(t, rs, local(roomID, alice, "m.room.name", strp(""), map[string]string{"name": "A"})); res.Err != nil {
				t.Fatal(res.Err)
			}
			// Remote branch from the fork point: bob names it too, later.
			bName := rem.build(roomID, bob, "m.room.name", strp(""), map[string]string{"name": "B"},
				[]string{forkPoint}, append(rem.stateIDs(roomID, tCreate, tPL), forkPoint), 11, time.Now().Add(time.Second))
			if res := rem.input(bName); res.Err != nil || res.SoftFailed {
				t.Fatalf("fork event: %+v", res)
			}
			tips, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			if len(tips) != 2 {
				t.Fatalf("expected 2 tips after the fork, got %v", tips)
			}
			name, err := rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []api.StateKey{{Type: "m.room.name"}})
			must(t, err)
			if len(name) != 1 || name[0].EventID() != bName.EventID() {
				t.Fatalf("resolved name is not bob's later event: %v", name)
			}
			last := pub.outputs()[len(pub.outputs())-1].NewRoomEvent
			if last == nil || last.EventID != bName.EventID() || len(last.RemovesStateEventIDs) != 1 {
				t.Fatalf("merge output %+v", last)
			}
			// Alice's next event points at both tips.
			res := send(t, rs, local(roomID, alice, "m.room.message", nil, map[string]string{"body": "merged"}))
			evs, err := rs.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(res.EventID)})
			must(t, err)
			if len(evs[0].PrevEventIDs()) != 2 {
				t.Fatalf("merge event prev_events %v", evs[0].PrevEventIDs())
			}
			if err := rs.CheckDAG(ctx, roomID); err != nil {
				t.Fatal(err)
			}
			if tips, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID)); err != nil || len(tips) != 1 {
				t.Fatalf("tips after merge %v", tips)
			}
		})
	}
}

// TestForkStateResolutionV2_1: a conflicting remote branch in a room of
// version 12 (state res v2.1, which walks the conflicted subgraph) merges
// without taking the server down. The conflicted events themselves are
// not in any auth chain; the library looks them up there and used to get
// nil back (issue 17: a remote server could crash Axon this way).
func TestForkStateResolutionV2_1(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			rem.version = "12"
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "12", "public")
			send(t, rs, local(roomID, alice, "m.room.power_levels", strp(""), map[string]any{"users": map[string]int{bob: 100}}))
			ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
				matrixid.Strings(ext), rem.stateIDs(roomID, tPL, tJR), 10, time.Now())
			if res := rem.input(join); res.Err != nil {
				t.Fatal(res.Err)
			}
			if res := send(t, rs, local(roomID, alice, "m.room.name", strp(""), map[string]string{"name": "A"})); res.Err != nil {
				t.Fatal(res.Err)
			}
			bName := rem.build(roomID, bob, "m.room.name", strp(""), map[string]string{"name": "B"},
				[]string{join.EventID()}, append(rem.stateIDs(roomID, tPL), join.EventID()), 11, time.Now().Add(time.Second))
			if res := rem.input(bName); res.Err != nil || res.SoftFailed {
				t.Fatalf("fork event: %+v", res)
			}
			// The room goes on: the next local event merges both branches.
			res := send(t, rs, local(roomID, alice, "m.room.message", nil, map[string]string{"body": "merged"}))
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if tips, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID)); err != nil || len(tips) != 1 {
				t.Fatalf("tips after merge %v (%v)", tips, err)
			}
			if names, err := rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []api.StateKey{{Type: "m.room.name"}}); err != nil || len(names) != 1 {
				t.Fatalf("the conflicted name dropped out of the resolved state: %v (%v)", names, err)
			}
			if err := rs.CheckDAG(ctx, roomID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestForkStateResolutionV2_1ControlEvents: in room v12 two admins set
// the join rules at once: the creator (infinite power) and a user at a
// level above 100. Resolution sorts the creator first, so the other's
// rule is applied last and wins. The library's v2.1 run panicked here
// (no create event in its partial state), and conflicted non-control
// events (the names of TestForkStateResolutionV2_1) dropped out.
func TestForkStateResolutionV2_1ControlEvents(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			rem.version = "12"
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "12", "public")
			ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
				matrixid.Strings(ext), rem.stateIDs(roomID, tPL, tJR), 10, time.Now())
			if res := rem.input(join); res.Err != nil {
				t.Fatal(res.Err)
			}
			pl := send(t, rs, local(roomID, alice, "m.room.power_levels", strp(""), map[string]any{"users": map[string]int{bob: 9493420}}))
			if pl.Err != nil {
				t.Fatal(pl.Err)
			}
			if res := send(t, rs, local(roomID, alice, "m.room.join_rules", strp(""), map[string]string{"join_rule": "invite"})); res.Err != nil {
				t.Fatal(res.Err)
			}
			knock := rem.build(roomID, bob, "m.room.join_rules", strp(""), map[string]string{"join_rule": "knock"},
				[]string{string(pl.EventID)}, []string{string(pl.EventID), join.EventID()}, 20, time.Now().Add(time.Second))
			if res := rem.input(knock); res.Err != nil || res.SoftFailed {
				t.Fatalf("bob's join rules: %+v", res)
			}
			evs, err := rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), []api.StateKey{tJR})
			must(t, err)
			if len(evs) != 1 || evs[0].EventID() != knock.EventID() {
				t.Fatalf("resolved join rules %v, want bob's %s", evs, knock.EventID())
			}
			if err := rs.CheckDAG(ctx, roomID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLenientStateKeyLength: before room v11 the 255 limit on a state key
// counted code points, and other servers kept longer-in-bytes keys
// (Complement TestOutboundFederationEventSizeGetMissingEvents). Such an
// event from another server is stored; from v11 on it is refused.
func TestLenientStateKeyLength(t *testing.T) {
	be := storagetest.Backends()[0]
	ctx := context.Background()
	rs, _ := newTestServer(t, be.NewDSN(t))
	key := strings.Repeat("💥", 70) // 280 bytes, 70 code points
	for _, tc := range []struct {
		version string
		stored  bool
	}{{"10", true}, {"11", false}} {
		rem := newRemote(t, rs)
		rem.version = tc.version
		alice, bob := "@alice:"+testServer, "@bob:other.test"
		roomID := createTestRoom(t, rs, alice, tc.version, "public")
		send(t, rs, local(roomID, alice, "m.room.power_levels", strp(""), map[string]any{"users": map[string]int{alice: 100, bob: 100}}))
		ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
		must(t, err)
		join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
			matrixid.Strings(ext), rem.stateIDs(roomID, tCreate, tPL, tJR), 10, time.Now())
		if res := rem.input(join); res.Err != nil {
			t.Fatal(res.Err)
		}
		v := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersion(tc.version))
		b := v.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{
			SenderID: bob, RoomID: roomID, Type: "my.room.breaker", StateKey: &key, Content: []byte(`{}`),
			PrevEvents: []string{join.EventID()}, AuthEvents: append(rem.stateIDs(roomID, tCreate, tPL), join.EventID()), Depth: 11,
		})
		// Build signs the event and reports the size limit it breaks.
		pdu, _ := b.Build(time.Now(), spec.ServerName("other.test"), "ed25519:o", rem.key)
		if pdu == nil {
			t.Fatalf("v%s: no event built", tc.version)
		}
		res := rem.input(api.NewEvent(pdu))
		if stored := res.Err == nil; stored != tc.stored {
			t.Fatalf("v%s: stored %v, want %v (%+v)", tc.version, stored, tc.stored, res)
		}
	}
}

// TestTipEventCheckedAgainstCurrentState: an event whose one prev event
// is the room's one forward extremity takes current state as its state
// before (no snapshot load); its auth events passing must not let it
// skip the check against that state. Bob, banned at the tip, cites his
// old join: rejected, not accepted nor soft-failed. A message citing the
// current state passes on the same path.
func TestTipEventCheckedAgainstCurrentState(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			alice, bob, carol := "@alice:"+testServer, "@bob:other.test", "@carol:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			for i, user := range []string{bob, carol} {
				ext, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
				must(t, err)
				join := rem.build(roomID, user, "m.room.member", strp(user), map[string]string{"membership": "join"},
					matrixid.Strings(ext), rem.stateIDs(roomID, tCreate, tPL, tJR), int64(10+i), time.Now())
				if res := rem.input(join); res.Err != nil || res.SoftFailed {
					t.Fatalf("join %s: %+v", user, res)
				}
			}
			bobJoin := rem.stateIDs(roomID, api.StateKey{Type: "m.room.member", StateKey: bob})
			if res := send(t, rs, local(roomID, alice, "m.room.member", strp(bob), map[string]string{"membership": "ban"})); res.Err != nil {
				t.Fatal(res.Err)
			}
			tips, err := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			must(t, err)
			if len(tips) != 1 {
				t.Fatalf("%d extremities", len(tips))
			}
			msg := rem.build(roomID, bob, "m.room.message", nil, map[string]string{"body": "still here"},
				matrixid.Strings(tips), append(rem.stateIDs(roomID, tCreate, tPL), bobJoin...), 20, time.Now())
			if res := rem.input(msg); res.Err == nil || res.SoftFailed || !strings.Contains(res.Err.Error(), "state before") {
				t.Fatalf("banned sender's event on the tip: %+v", res)
			}
			ok := rem.build(roomID, carol, "m.room.message", nil, map[string]string{"body": "hello"},
				matrixid.Strings(tips), rem.stateIDs(roomID, tCreate, tPL, api.StateKey{Type: "m.room.member", StateKey: carol}), 21, time.Now())
			if res := rem.input(ok); res.Err != nil || res.SoftFailed {
				t.Fatalf("carol's event on the tip: %+v", res)
			}
			if tips, err = rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID)); err != nil || len(tips) != 1 || string(tips[0]) != ok.EventID() {
				t.Fatalf("extremities after carol's event: %v %v", tips, err)
			}
		})
	}
}
