package roomserver

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/axon-hs/axon/roomserver/api"
)

// TestGuestAccessRevoked: only a current-state guest_access event that
// is not can_join triggers the removal of guests.
func TestGuestAccessRevoked(t *testing.T) {
	out := func(roomID, eventID, event string, current bool) api.OutputEvent {
		ore := &api.OutputNewRoomEvent{RoomID: roomID, EventID: eventID, Event: json.RawMessage(event)}
		if current {
			ore.AddsStateEventIDs = []string{eventID}
		}
		return api.OutputEvent{Type: api.OutputTypeNewRoomEvent, NewRoomEvent: ore}
	}
	got := guestAccessRevoked([]api.OutputEvent{
		out("!forbidden", "$1", `{"type":"m.room.guest_access","state_key":"","content":{"guest_access":"forbidden"}}`, true),
		out("!emptied", "$2", `{"type":"m.room.guest_access","state_key":"","content":{}}`, true),
		out("!canjoin", "$3", `{"type":"m.room.guest_access","state_key":"","content":{"guest_access":"can_join"}}`, true),
		out("!notcurrent", "$4", `{"type":"m.room.guest_access","state_key":"","content":{"guest_access":"forbidden"}}`, false),
		out("!otherkey", "$5", `{"type":"m.room.guest_access","state_key":"x","content":{"guest_access":"forbidden"}}`, true),
		out("!message", "$6", `{"type":"m.room.message","content":{"guest_access":"forbidden"}}`, true),
		out("!forbidden", "$7", `{"type":"m.room.guest_access","state_key":"","content":{"guest_access":"forbidden"}}`, true),
	})
	if want := []string{"!forbidden", "!emptied"}; !slices.Equal(got, want) {
		t.Fatalf("rooms = %v, want %v", got, want)
	}
}
