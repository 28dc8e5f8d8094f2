package notifier

import (
	"testing"

	"github.com/axon-hs/axon/syncapi/types"
)

func TestWakeOnRoomEvent(t *testing.T) {
	n := New(types.StreamToken{}, map[string][]string{"!r": {"@a", "@b"}})
	wa, wc := n.Wait("@a"), n.Wait("@c")
	n.OnRoomEvent("!r", 5, nil)
	select { // OnRoomEvent wakes before it returns
	case <-wa:
	default:
		t.Fatal("@a not woken")
	}
	select {
	case <-wc:
		t.Fatal("@c woken but not in room")
	default:
	}
	if n.Current().PDU != 5 {
		t.Fatalf("pos %d", n.Current().PDU)
	}
	// @c joins: woken, and then gets later room events.
	n.OnRoomEvent("!r", 6, map[string]string{"@c": "join"})
	<-wc
	wc = n.Wait("@c")
	n.OnRoomEvent("!r", 7, nil)
	<-wc
	n.Close()
	<-n.Wait("@a")
}

// TestApplyFromAnotherReplica: a change published by one notifier wakes
// the right users of another and moves its positions, not its typing.
func TestApplyFromAnotherReplica(t *testing.T) {
	writer := New(types.StreamToken{}, nil)
	reader := New(types.StreamToken{Typing: 7}, nil)
	var got []Wake
	writer.SetPublish(func(w Wake) { got = append(got, w) })
	writer.OnRoomEvent("!r", 3, map[string]string{"@a:x": "join"})
	writer.Advance(func(tk *types.StreamToken) { tk.ToDevice = 2 }, "@b:x")
	if len(got) != 2 {
		t.Fatalf("published %d changes, want 2", len(got))
	}
	a, b := reader.Wait("@a:x"), reader.Wait("@b:x")
	reader.Apply(got[0])
	select {
	case <-a:
	default:
		t.Fatal("@a:x not woken by the room event")
	}
	select {
	case <-b:
		t.Fatal("@b:x woken by a room it is not in")
	default:
	}
	reader.Apply(got[1])
	select {
	case <-b:
	default:
		t.Fatal("@b:x not woken")
	}
	if pos := reader.Current(); pos.PDU != 3 || pos.ToDevice != 2 || pos.Typing != 7 {
		t.Fatalf("positions %+v", pos)
	}
	if users := reader.JoinedUsers("!r"); len(users) != 1 || users[0] != "@a:x" {
		t.Fatalf("membership not applied: %v", users)
	}
}
