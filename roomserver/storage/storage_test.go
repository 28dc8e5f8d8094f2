package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/roomserver/storage"
)

// forEachBackend runs fn on a fresh roomserver database of each engine.
func forEachBackend(t *testing.T, fn func(t *testing.T, d *storage.DB)) {
	storagetest.ForEachBackendWith(t, "roomserver", storage.Migrations, storage.New, fn)
}

// must fails the test on a set-up error.
var must = testutil.Must

var ctx = context.Background()

// write runs fn in one write transaction.
func write(t *testing.T, d *storage.DB, fn func(tx *istorage.Tx) error) {
	t.Helper()
	must(t, d.WriteTx(ctx, fn))
}

func newRoom(t *testing.T, d *storage.DB, roomID string) int64 {
	t.Helper()
	var nid int64
	write(t, d, func(tx *istorage.Tx) (err error) { nid, err = d.InsertRoom(ctx, tx, roomID, "10"); return err })
	return nid
}

func insertEvent(t *testing.T, d *storage.DB, e *storage.Event) int64 {
	t.Helper()
	if e.JSON == nil {
		e.JSON = []byte(`{"event_id":"` + e.EventID + `"}`)
	}
	write(t, d, func(tx *istorage.Tx) (err error) { e.NID, err = d.InsertEvent(ctx, tx, e); return err })
	return e.NID
}

func ptr(s string) *string { return &s }

func eventIDs(evs []*storage.Event) []string {
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.EventID)
	}
	slices.Sort(ids)
	return ids
}

func TestRooms(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		if r, err := d.RoomByID(ctx, d, "!none:x"); err != nil || r != nil {
			t.Fatalf("unknown room: %+v %v", r, err)
		}
		nid := newRoom(t, d, "!a:x")
		r, err := d.RoomByID(ctx, d, "!a:x")
		must(t, err)
		if r == nil || r.NID != nid || r.Version != "10" || r.SnapshotNID != 0 || len(r.Extremities) != 0 || r.Depth != 0 || r.Published {
			t.Fatalf("new room: %+v", r)
		}
		// A second room with the same ID is refused.
		if err := d.WriteTx(ctx, func(tx *istorage.Tx) error { _, err := d.InsertRoom(ctx, tx, "!a:x", "11"); return err }); !istorage.IsUniqueViolation(err) {
			t.Fatalf("duplicate room: %v", err)
		}
		write(t, d, func(tx *istorage.Tx) error { return d.UpdateRoomHead(ctx, tx, nid, 7, []string{"$x", "$y"}, 12) })
		r, err = d.RoomByID(ctx, d, "!a:x")
		must(t, err)
		if r.SnapshotNID != 7 || !slices.Equal(r.Extremities, []string{"$x", "$y"}) || r.Depth != 12 {
			t.Fatalf("room head: %+v", r)
		}
		if id, v, err := d.RoomByNID(ctx, nid); err != nil || id != "!a:x" || v != "10" {
			t.Fatalf("room by NID: %s %s %v", id, v, err)
		}

		newRoom(t, d, "!b:x")
		newRoom(t, d, "!c:x")
		must(t, d.SetPublished(ctx, "!c:x", true))
		must(t, d.SetPublished(ctx, "!a:x", true))
		must(t, d.SetPublished(ctx, "!b:x", true))
		must(t, d.SetPublished(ctx, "!b:x", false))
		if got, err := d.PublishedRooms(ctx); err != nil || !slices.Equal(got, []string{"!a:x", "!c:x"}) {
			t.Fatalf("published rooms %v %v, want [!a:x !c:x] in creation order", got, err)
		}
	})
}

func TestEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		room := newRoom(t, d, "!r:x")
		other := newRoom(t, d, "!other:x")
		create := &storage.Event{RoomNID: room, EventID: "$create", Type: "m.room.create", StateKey: ptr(""), Depth: 1, OriginServerTS: 100, SnapshotNID: 0}
		msg := &storage.Event{RoomNID: room, EventID: "$msg", Type: "m.room.message", Depth: 2, OriginServerTS: 200, SnapshotNID: 1}
		soft := &storage.Event{RoomNID: room, EventID: "$soft", Type: "m.room.message", Depth: 3, OriginServerTS: 300, Status: storage.StatusSoftFailed}
		rejected := &storage.Event{RoomNID: room, EventID: "$rejected", Type: "m.room.message", Depth: 3, OriginServerTS: 250, Status: storage.StatusRejected}
		outlier := &storage.Event{RoomNID: room, EventID: "$outlier", Type: "m.room.member", StateKey: ptr("@u:x"), Depth: 9, OriginServerTS: 260, Status: storage.StatusOutlier}
		elsewhere := &storage.Event{RoomNID: other, EventID: "$elsewhere", Type: "m.room.message", Depth: 1, OriginServerTS: 210}
		for _, e := range []*storage.Event{create, msg, soft, rejected, outlier, elsewhere} {
			insertEvent(t, d, e)
		}
		if create.NID == 0 || msg.NID <= create.NID {
			t.Fatalf("NIDs %d, %d: want increasing, non-zero", create.NID, msg.NID)
		}
		dup := &storage.Event{RoomNID: room, EventID: "$msg", Type: "m.room.message", JSON: []byte(`{}`)}
		if err := d.WriteTx(ctx, func(tx *istorage.Tx) error { _, err := d.InsertEvent(ctx, tx, dup); return err }); !istorage.IsUniqueViolation(err) {
			t.Fatalf("duplicate event ID: %v", err)
		}

		got, err := d.EventByID(ctx, d, "$create")
		must(t, err)
		if got == nil || got.NID != create.NID || got.RoomNID != room || got.Type != "m.room.create" || got.StateKey == nil || *got.StateKey != "" ||
			got.Depth != 1 || got.OriginServerTS != 100 || got.Status != storage.StatusAccepted || string(got.JSON) != string(create.JSON) {
			t.Fatalf("event read back: %+v", got)
		}
		if got, err := d.EventByID(ctx, d, "$msg"); err != nil || got.StateKey != nil || got.SnapshotNID != 1 {
			t.Fatalf("message event: %+v %v (a non-state event has no state key)", got, err)
		}
		if got, err := d.EventByID(ctx, d, "$unknown"); err != nil || got != nil {
			t.Fatalf("unknown event: %+v %v", got, err)
		}
		evs, err := d.EventsByID(ctx, d, []string{"$msg", "$unknown", "$create"})
		if err != nil || !slices.Equal(eventIDs(evs), []string{"$create", "$msg"}) {
			t.Fatalf("events by ID: %v %v", eventIDs(evs), err)
		}
		evs, err = d.EventsByNID(ctx, d, []int64{soft.NID, elsewhere.NID, 99999})
		if err != nil || !slices.Equal(eventIDs(evs), []string{"$elsewhere", "$soft"}) {
			t.Fatalf("events by NID: %v %v", eventIDs(evs), err)
		}
		// The DAG of a room: accepted and soft-failed events, in order.
		evs, err = d.RoomEvents(ctx, room)
		must(t, err)
		var dag []string
		for _, e := range evs {
			dag = append(dag, e.EventID)
		}
		if !slices.Equal(dag, []string{"$create", "$msg", "$soft"}) {
			t.Fatalf("room events %v, want accepted and soft-failed in insertion order", dag)
		}

		// Redaction rewrites the stored JSON.
		write(t, d, func(tx *istorage.Tx) error {
			return d.UpdateEventJSON(ctx, tx, msg.NID, []byte(`{"redacted":true}`), "$redaction")
		})
		if got, err := d.EventByID(ctx, d, "$msg"); err != nil || string(got.JSON) != `{"redacted":true}` || got.RedactedBy != "$redaction" {
			t.Fatalf("after redaction: %+v %v", got, err)
		}
	})
}

// More IDs than one query takes (500) are read in chunks.
func TestEventsByIDManyChunks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		room := newRoom(t, d, "!r:x")
		var ids []string
		var nids []int64
		write(t, d, func(tx *istorage.Tx) error {
			for i := range 1100 {
				e := &storage.Event{RoomNID: room, EventID: fmt.Sprintf("$e%04d", i), Type: "m.room.message", Depth: int64(i), JSON: []byte(`{}`)}
				nid, err := d.InsertEvent(ctx, tx, e)
				if err != nil {
					return err
				}
				ids, nids = append(ids, e.EventID), append(nids, nid)
			}
			return nil
		})
		// Asked for in another order than their keys' (the chunks are
		// read in key order): each event once all the same.
		slices.Reverse(ids)
		slices.Reverse(nids)
		byID, err := d.EventsByID(ctx, d, ids)
		must(t, err)
		heads, err := d.EventHeadsByID(ctx, d, ids)
		must(t, err)
		byNID, err := d.EventsByNID(ctx, d, nids)
		must(t, err)
		nidOf, err := d.EventNIDsByID(ctx, d, ids)
		must(t, err)
		want := slices.Sorted(slices.Values(ids))
		for what, got := range map[string][]*storage.Event{"by ID": byID, "heads by ID": heads, "by NID": byNID} {
			if gotIDs := slices.Sorted(slices.Values(eventIDs(got))); !slices.Equal(gotIDs, want) {
				t.Fatalf("%s: got %d events, want the %d asked for", what, len(got), len(ids))
			}
		}
		for k, id := range ids {
			if nidOf[id] != nids[k] {
				t.Fatalf("NID of %s: %d, want %d", id, nidOf[id], nids[k])
			}
		}
	})
}

func TestEventByTimestamp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		room := newRoom(t, d, "!r:x")
		for _, e := range []*storage.Event{
			{RoomNID: room, EventID: "$t100", Type: "m.room.message", OriginServerTS: 100},
			{RoomNID: room, EventID: "$t200", Type: "m.room.message", OriginServerTS: 200},
			{RoomNID: room, EventID: "$t150-rejected", Type: "m.room.message", OriginServerTS: 150, Status: storage.StatusRejected},
			{RoomNID: room, EventID: "$t300", Type: "m.room.message", OriginServerTS: 300},
		} {
			insertEvent(t, d, e)
		}
		cases := []struct {
			ts      int64
			forward bool
			want    string
		}{
			{150, true, "$t200"}, {150, false, "$t100"}, // the rejected one at 150 is never an answer
			{200, true, "$t200"}, {200, false, "$t200"}, // inclusive
			{50, false, ""}, {301, true, ""}, // nothing that side
			{1000, false, "$t300"},
		}
		for _, c := range cases {
			id, ts, err := d.EventByTimestamp(ctx, room, c.ts, c.forward)
			if err != nil || id != c.want {
				t.Errorf("EventByTimestamp(%d, forward=%v) = %s (ts %d) %v, want %q", c.ts, c.forward, id, ts, err, c.want)
			}
		}
	})
}

func TestSnapshots(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		room := newRoom(t, d, "!r:x")
		key := func(typ, sk string) storage.Tuple { return storage.Tuple{EventType: typ, StateKey: sk} }
		// Full snapshot, big enough to need several insert statements.
		full := storage.StateMap{key("m.room.create", ""): 1}
		for i := range 450 {
			full[key("m.room.member", fmt.Sprintf("@u%d:x", i))] = int64(100 + i)
		}
		var s1, s2, s3 int64
		write(t, d, func(tx *istorage.Tx) (err error) {
			if s1, err = d.InsertSnapshot(ctx, tx, room, 0, 0, full); err != nil {
				return err
			}
			// Delta: a new name, alice's membership changed, @u0 removed.
			delta := storage.StateMap{key("m.room.name", ""): 2000, key("m.room.member", "@u1:x"): 2001, key("m.room.member", "@u0:x"): 0}
			if s2, err = d.InsertSnapshot(ctx, tx, room, s1, 1, delta); err != nil {
				return err
			}
			// A delta on the delta: the name changes again.
			s3, err = d.InsertSnapshot(ctx, tx, room, s2, 2, storage.StateMap{key("m.room.name", ""): 3000})
			return err
		})
		got, chain, err := d.LoadSnapshot(ctx, d, s1)
		must(t, err)
		if chain != 0 || len(got) != len(full) || got[key("m.room.member", "@u449:x")] != 549 {
			t.Fatalf("full snapshot: %d entries, chain %d", len(got), chain)
		}
		got, chain, err = d.LoadSnapshot(ctx, d, s3)
		must(t, err)
		want := storage.StateMap{}
		for k, v := range full {
			want[k] = v
		}
		delete(want, key("m.room.member", "@u0:x"))
		want[key("m.room.member", "@u1:x")] = 2001
		want[key("m.room.name", "")] = 3000
		if chain != 2 || len(got) != len(want) {
			t.Fatalf("snapshot after two deltas: %d entries (want %d), chain %d (want 2)", len(got), len(want), chain)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("snapshot after two deltas: %v = %d, want %d", k, got[k], v)
			}
		}
		// The middle snapshot still reads as it was.
		if mid, _, err := d.LoadSnapshot(ctx, d, s2); err != nil || mid[key("m.room.name", "")] != 2000 {
			t.Fatalf("middle snapshot name %d %v", mid[key("m.room.name", "")], err)
		}
		if empty, chain, err := d.LoadSnapshot(ctx, d, 0); err != nil || len(empty) != 0 || chain != 0 {
			t.Fatalf("snapshot 0: %v %d %v", empty, chain, err)
		}
	})
}

func TestMemberships(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		a, b := newRoom(t, d, "!a:x"), newRoom(t, d, "!b:x")
		if m, nid, err := d.MembershipRow(ctx, d, a, "@u:x"); err != nil || m != "" || nid != 0 {
			t.Fatalf("no membership: %q %d %v", m, nid, err)
		}
		write(t, d, func(tx *istorage.Tx) error {
			for _, m := range []struct {
				room int64
				user string
				ms   string
				nid  int64
			}{{a, "@u:x", "join", 1}, {b, "@u:x", "invite", 2}, {b, "@v:x", "join", 3}} {
				if err := d.UpsertMembership(ctx, tx, m.room, m.user, m.ms, m.nid); err != nil {
					return err
				}
			}
			return nil
		})
		rooms := func(user, membership string) []string {
			t.Helper()
			r, err := d.RoomsForUser(ctx, user, membership)
			must(t, err)
			return r
		}
		if got := rooms("@u:x", "join"); !slices.Equal(got, []string{"!a:x"}) {
			t.Fatalf("joined rooms %v", got)
		}
		if got := rooms("@u:x", "invite"); !slices.Equal(got, []string{"!b:x"}) {
			t.Fatalf("invited rooms %v", got)
		}
		// Leaving replaces the row; forgetting hides it; a new membership
		// brings the room back.
		write(t, d, func(tx *istorage.Tx) error { return d.UpsertMembership(ctx, tx, a, "@u:x", "leave", 4) })
		if m, nid, err := d.MembershipRow(ctx, d, a, "@u:x"); err != nil || m != "leave" || nid != 4 {
			t.Fatalf("after leave: %q %d %v", m, nid, err)
		}
		if got := rooms("@u:x", "join"); len(got) != 0 {
			t.Fatalf("still joined to %v after leaving", got)
		}
		write(t, d, func(tx *istorage.Tx) error { return d.Forget(ctx, tx, a, "@u:x") })
		if got := rooms("@u:x", "leave"); len(got) != 0 {
			t.Fatalf("forgotten room listed: %v", got)
		}
		write(t, d, func(tx *istorage.Tx) error { return d.UpsertMembership(ctx, tx, a, "@u:x", "join", 5) })
		if got := rooms("@u:x", "join"); !slices.Equal(got, []string{"!a:x"}) {
			t.Fatalf("rejoined room not listed: %v", got)
		}
	})
}

func TestAliases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		must(t, d.InsertAlias(ctx, "#b:x", "!r:x", "@u:x"))
		must(t, d.InsertAlias(ctx, "#a:x", "!r:x", "@v:x"))
		if err := d.InsertAlias(ctx, "#a:x", "!other:x", "@w:x"); !errors.Is(err, storage.ErrAliasExists) {
			t.Fatalf("taken alias: %v", err)
		}
		if room, creator, err := d.Alias(ctx, "#a:x"); err != nil || room != "!r:x" || creator != "@v:x" {
			t.Fatalf("alias: %s %s %v", room, creator, err)
		}
		if room, _, err := d.Alias(ctx, "#none:x"); err != nil || room != "" {
			t.Fatalf("unknown alias: %q %v", room, err)
		}
		if got, err := d.AliasesForRoom(ctx, "!r:x"); err != nil || !slices.Equal(got, []string{"#a:x", "#b:x"}) {
			t.Fatalf("aliases %v %v", got, err)
		}
		must(t, d.MoveAliases(ctx, "!r:x", "!new:x"))
		if got, err := d.AliasesForRoom(ctx, "!new:x"); err != nil || len(got) != 2 {
			t.Fatalf("moved aliases %v %v", got, err)
		}
		if got, err := d.AliasesForRoom(ctx, "!r:x"); err != nil || len(got) != 0 {
			t.Fatalf("old room keeps aliases %v %v", got, err)
		}
		if ok, err := d.DeleteAlias(ctx, "#a:x"); err != nil || !ok {
			t.Fatalf("delete: %v %v", ok, err)
		}
		if ok, err := d.DeleteAlias(ctx, "#a:x"); err != nil || ok {
			t.Fatalf("delete again: %v %v, want false", ok, err)
		}
	})
}

func TestClientTxns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		if id, err := d.TxnEvent(ctx, d, "@u:x", "D", "!r:x", "t1"); err != nil || id != "" {
			t.Fatalf("unknown txn: %q %v", id, err)
		}
		claim := func(eventID string) string {
			t.Helper()
			var first string
			write(t, d, func(tx *istorage.Tx) error {
				var err error
				first, err = d.ClaimTxn(ctx, tx, "@u:x", "D", "!r:x", "t1", eventID)
				return err
			})
			return first
		}
		if first := claim("$e1"); first != "" {
			t.Fatalf("new txn claimed as a repeat of %q", first)
		}
		if id, err := d.TxnEvent(ctx, d, "@u:x", "D", "!r:x", "t1"); err != nil || id != "$e1" {
			t.Fatalf("txn: %q %v", id, err)
		}
		// Scoped per device and room.
		for _, k := range [][3]string{{"E", "!r:x", "t1"}, {"D", "!s:x", "t1"}} {
			if id, err := d.TxnEvent(ctx, d, "@u:x", k[0], k[1], k[2]); err != nil || id != "" {
				t.Fatalf("txn of another device/room %v: %q %v", k, id, err)
			}
		}
		// A repeat names the first event and leaves it in place.
		if first := claim("$e2"); first != "$e1" {
			t.Fatalf("repeated txn: first = %q, want $e1", first)
		}
		if id, err := d.TxnEvent(ctx, d, "@u:x", "D", "!r:x", "t1"); err != nil || id != "$e1" {
			t.Fatalf("txn after repeat: %q %v", id, err)
		}
	})
}

// TestInsertClaimedEvent: an event stored with its client transaction
// claim (one statement on PostgreSQL) is stored once per transaction: a
// repeat stores nothing and names the first event, whose row it leaves;
// another transaction ID stores its own.
func TestInsertClaimedEvent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		room := newRoom(t, d, "!r:x")
		sk := "@u:x"
		store := func(txnID, eventID string, stateKey *string) (int64, string) {
			t.Helper()
			var nid int64
			var first string
			write(t, d, func(tx *istorage.Tx) (err error) {
				e := &storage.Event{RoomNID: room, EventID: eventID, Type: "m.room.message", StateKey: stateKey, Depth: 3,
					OriginServerTS: 17, SnapshotNID: 2, Status: storage.StatusAccepted, JSON: []byte(`{"event_id":"` + eventID + `"}`)}
				nid, first, err = d.InsertClaimedEvent(ctx, tx, storage.TxnClaim{UserID: "@u:x", DeviceID: "D", RoomID: "!r:x", TxnID: txnID}, e)
				return err
			})
			return nid, first
		}
		stored := func(eventID string) *storage.Event {
			t.Helper()
			evs, err := d.EventsByID(ctx, d, []string{eventID})
			must(t, err)
			if len(evs) == 0 {
				return nil
			}
			return evs[0]
		}
		nid, first := store("t1", "$e1", nil)
		if nid <= 0 || first != "" {
			t.Fatalf("new transaction: nid %d, first %q", nid, first)
		}
		if e := stored("$e1"); e == nil || e.NID != nid || e.Depth != 3 || e.SnapshotNID != 2 || e.StateKey != nil || string(e.JSON) != `{"event_id":"$e1"}` {
			t.Fatalf("stored %+v", e)
		}
		if id, err := d.TxnEvent(ctx, d, "@u:x", "D", "!r:x", "t1"); err != nil || id != "$e1" {
			t.Fatalf("claim: %q %v", id, err)
		}
		if nid, first := store("t1", "$e2", nil); nid != 0 || first != "$e1" {
			t.Fatalf("repeat: nid %d, first %q", nid, first)
		}
		if stored("$e2") != nil {
			t.Fatal("a repeat stored its event")
		}
		if id, _ := d.TxnEvent(ctx, d, "@u:x", "D", "!r:x", "t1"); id != "$e1" {
			t.Fatalf("claim after repeat: %q", id)
		}
		nid, first = store("t2", "$e3", &sk)
		if nid <= 0 || first != "" {
			t.Fatalf("another transaction: nid %d, first %q", nid, first)
		}
		if e := stored("$e3"); e == nil || e.StateKey == nil || *e.StateKey != sk {
			t.Fatalf("stored %+v", e)
		}
	})
}

// TestBlockedRooms: a block names who set it, is idempotent and is
// lifted; rooms need not exist.
func TestBlockedRooms(t *testing.T) {
	forEachBackend(t, func(t *testing.T, d *storage.DB) {
		if blocked, _, err := d.RoomBlocked(ctx, d, "!r:x"); err != nil || blocked {
			t.Fatalf("before: %v %v", blocked, err)
		}
		must(t, d.BlockRoom(ctx, "!r:x", true, "@admin:x", 1))
		must(t, d.BlockRoom(ctx, "!r:x", true, "@other:x", 2))
		if blocked, by, err := d.RoomBlocked(ctx, d, "!r:x"); err != nil || !blocked || by != "@admin:x" {
			t.Fatalf("blocked: %v %q %v", blocked, by, err)
		}
		must(t, d.BlockRoom(ctx, "!r:x", false, "", 3))
		if blocked, _, err := d.RoomBlocked(ctx, d, "!r:x"); err != nil || blocked {
			t.Fatalf("unblocked: %v %v", blocked, err)
		}
	})
}
