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
