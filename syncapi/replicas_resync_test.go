package syncapi

import (
	"context"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/notifier"
)

// replicaOf is another syncapi replica on s's tables, started now (as New
// starts one: positions and joined members from the tables).
func replicaOf(t *testing.T, s *SyncAPI) *SyncAPI {
	t.Helper()
	ctx := context.Background()
	pos, err := s.db.MaxPositions(ctx)
	must(t, err)
	joined, err := s.db.AllJoinedMembers(ctx)
	must(t, err)
	return &SyncAPI{base: s.base, log: s.log, db: s.db, cache: newStateCache(s.db), ignores: newIgnoreCache(),
		progress: newProgress(), notif: notifier.New(pos, joined)}
}

// The former writer committed a batch (bob's join, a message) and
// stopped before its wake reached the other replica: after the takeover
// resync, that replica has the positions, the member and the room's
// state, and its long-polls are woken.
func TestResyncAfterUnannouncedBatch(t *testing.T) {
	ctx := context.Background()
	writer := newTestSyncAPI(t, storagetest.Backends()[0].NewDSN(t))
	r := newTestRoom(t, "!room:test")
	r.create(writer, "@alice:test")
	other := replicaOf(t, writer)
	if _, err := other.cache.get(ctx, r.id); err != nil { // cached: alice alone
		t.Fatal(err)
	}
	woken := other.notif.Wait("@alice:test")

	r.join(writer, "@bob:test") // writer has no publish: the wakes are lost
	r.say(writer, "@bob:test", "hi")
	if other.notif.Current().PDU >= writer.notif.Current().PDU || other.notif.SharesRoom("@alice:test", "@bob:test") {
		t.Fatal("the other replica learnt of the batch without its wake")
	}

	if err := other.resync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := other.notif.Current().PDU, writer.notif.Current().PDU; got != want {
		t.Fatalf("other replica at PDU %d after the resync, the tables at %d", got, want)
	}
	if !other.notif.SharesRoom("@alice:test", "@bob:test") {
		t.Fatal("bob's join not among the members after the resync")
	}
	rs, err := other.cache.get(ctx, r.id)
	must(t, err)
	if m := rs.get("m.room.member", "@bob:test"); m == nil || m.Membership != "join" {
		t.Fatal("cached state kept after the resync: bob not joined in it")
	}
	select {
	case <-woken:
	default:
		t.Fatal("alice's long-poll not woken by the resync")
	}
}

// The new writer resyncs itself and tells the other replicas to.
func TestTakeOverWritingAnnouncesResync(t *testing.T) {
	s := newTestSyncAPI(t, storagetest.Backends()[0].NewDSN(t))
	var sent []wakeMsg
	s.replica = &replica{s: s, instance: "sync-2", publish: func(w wakeMsg) { sent = append(sent, w) }}
	if err := s.takeOverWriting(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || !sent[0].Resync {
		t.Fatalf("published %+v, want one resync", sent)
	}
}
