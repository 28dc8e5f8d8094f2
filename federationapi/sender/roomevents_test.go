package sender

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

type noEvents struct{}

func (noEvents) QueryEvents(context.Context, []matrixid.EventID) ([]*rsapi.Event, error) {
	return nil, nil
}

func (noEvents) QueryStateDelta(context.Context, matrixid.RoomID, rsapi.StateDeltaRef) (*rsapi.StateDelta, error) {
	return &rsapi.StateDelta{}, nil
}

func member(t *testing.T, origin, roomID, userID, membership string) gomatrixserverlib.PDU {
	t.Helper()
	return memberOf(t, origin, roomID, userID, userID, membership)
}

// testRoomEvents is a consumer over store with a sender that is not
// started: only the queue rows matter.
func testRoomEvents(store *storage.DB) *RoomEvents {
	return &RoomEvents{Store: store, Rooms: noEvents{}, Sender: New(store, newFake(), testConfig())}
}

func output(t *testing.T, seq uint64, e gomatrixserverlib.PDU, adds, removes []string) stream.Message {
	t.Helper()
	data, err := json.Marshal(rsapi.OutputEvent{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: &rsapi.OutputNewRoomEvent{
		RoomID: e.RoomID().String(), RoomVersion: "10", EventID: e.EventID(), Event: e.JSON(),
		AddsStateEventIDs: adds, RemovesStateEventIDs: removes,
	}})
	must(t, err)
	return stream.Message{Seq: seq, Data: data}
}

func TestRoomEventsJoinedServersAndQueueing(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx := context.Background()
		s := New(store, newFake(), testConfig()) // not started: only the queue rows matter
		c := &RoomEvents{Store: store, Rooms: noEvents{}, Sender: s, BacklogUntil: 2}
		room := "!r:me.org"
		remoteJoin := member(t, "far.org", room, "@x:far.org", "join")
		localJoin := member(t, "me.org", room, "@me:me.org", "join")
		remoteLeave := member(t, "far.org", room, "@x:far.org", "leave")

		// seq 1: remote join (tracked, not sent); seq 2: local join inside
		// the backlog (tracked, not sent).
		for _, m := range []stream.Message{
			output(t, 1, remoteJoin, []string{remoteJoin.EventID()}, nil),
			output(t, 2, localJoin, []string{localJoin.EventID()}, nil),
		} {
			if err := c.Handle(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := store.JoinedServers(ctx, store, room); err != nil || len(got) != 2 {
			t.Fatalf("joined servers %v", got)
		}
		if dests, err := store.PendingDestinations(ctx); err != nil || len(dests) != 0 {
			t.Fatalf("backlog or remote events queued for %v", dests)
		}
		// seq 3: a local event after the backlog goes to far.org only.
		msg := member(t, "me.org", room, "@me:me.org", "join")
		if err := c.Handle(ctx, output(t, 3, msg, nil, nil)); err != nil {
			t.Fatal(err)
		}
		if dests, err := store.PendingDestinations(ctx); err != nil || len(dests) != 1 || dests[0] != "far.org" {
			t.Fatalf("queued for %v, want [far.org]", dests)
		}
		// seq 4: far.org leaves; it drops out of the room.
		if err := c.Handle(ctx, output(t, 4, remoteLeave, []string{remoteLeave.EventID()}, []string{remoteJoin.EventID()})); err != nil {
			t.Fatal(err)
		}
		if got, err := store.JoinedServers(ctx, store, room); err != nil || len(got) != 1 || got[0] != "me.org" {
			t.Fatalf("joined servers after leave %v", got)
		}
		if pos, err := store.Position(ctx, ConsumerName); err != nil || pos != 4 {
			t.Fatalf("position %d", pos)
		}
	})
}

// A join we relay for another server (send_join, SendAsServer) goes to
// the room's other servers, never back to the joining server: the first
// thing it hears from us must be the room's next event (Complement
// TestOutboundFederationSend).
func TestRoomEventsRelayedJoinNotSentBack(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx, c, room := context.Background(), testRoomEvents(store), "!r:me.org"
		localJoin := member(t, "me.org", room, "@me:me.org", "join")
		otherJoin := member(t, "other.org", room, "@y:other.org", "join")
		farJoin := member(t, "far.org", room, "@x:far.org", "join")
		for i, m := range []stream.Message{
			output(t, 1, localJoin, []string{localJoin.EventID()}, nil),
			output(t, 2, otherJoin, []string{otherJoin.EventID()}, nil),
		} {
			if err := c.Handle(ctx, m); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		if _, err := store.PendingDestinations(ctx); err != nil {
			t.Fatal(err)
		}
		relayed := output(t, 3, farJoin, []string{farJoin.EventID()}, nil)
		var out rsapi.OutputEvent
		must(t, json.Unmarshal(relayed.Data, &out))
		out.NewRoomEvent.SendAsServer = "me.org"
		data, err := json.Marshal(out)
		must(t, err)
		relayed.Data = data
		if err := c.Handle(ctx, relayed); err != nil {
			t.Fatal(err)
		}
		dests, err := store.PendingDestinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dests {
			if d == "far.org" {
				t.Fatalf("far.org's own join queued back to it: %v", dests)
			}
		}
		if len(dests) != 1 || dests[0] != "other.org" {
			t.Fatalf("relayed join queued for %v, want [other.org]", dests)
		}
	})
}

// A local membership change of a user whose server is not in the room (a
// rescinded invite) is sent to that server (Complement
// TestFederationRoomsInvite "Inviter user can rescind invite over
// federation").
func TestRoomEventsRescindReachesInvitee(t *testing.T) {
	forEach(t, func(t *testing.T, store *storage.DB) {
		ctx, c, room := context.Background(), testRoomEvents(store), "!r:me.org"
		localJoin := member(t, "me.org", room, "@me:me.org", "join")
		if err := c.Handle(ctx, output(t, 1, localJoin, []string{localJoin.EventID()}, nil)); err != nil {
			t.Fatal(err)
		}
		rescind := memberOf(t, "me.org", room, "@me:me.org", "@x:far.org", "leave")
		if err := c.Handle(ctx, output(t, 2, rescind, []string{rescind.EventID()}, nil)); err != nil {
			t.Fatal(err)
		}
		if dests, err := store.PendingDestinations(ctx); err != nil || len(dests) != 1 || dests[0] != "far.org" {
			t.Fatalf("rescind queued for %v (%v), want [far.org]", dests, err)
		}
	})
}

// memberOf is a membership event sent by sender about target.
func memberOf(t *testing.T, origin, roomID, sender, target, membership string) gomatrixserverlib.PDU {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	v := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV10)
	b := v.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{SenderID: sender, RoomID: roomID, Type: "m.room.member",
		StateKey: &target, PrevEvents: []string{}, AuthEvents: []string{}, Depth: 1})
	must(t, b.SetContent(map[string]string{"membership": membership}))
	pdu, err := b.Build(time.Now(), spec.ServerName(origin), "ed25519:x", key)
	if err != nil {
		t.Fatal(err)
	}
	return pdu
}
