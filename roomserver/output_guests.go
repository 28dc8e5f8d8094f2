package roomserver

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// GuestAccounts tells the roomserver which local users are guests
// (the userapi), for the guest_access rule below.
type GuestAccounts interface {
	QueryAccount(ctx context.Context, userID matrixid.UserID) (*uapi.Account, error)
}

// removeGuestsAfter applies the spec's rule that once m.room.guest_access
// stops being can_join, joined guests must leave: for every committed
// output that makes such an event current state, whoever sent it (a
// local user or another server over federation), this server's joined
// guests leave the room, each by its own membership event. It runs after
// the batch, off the room's worker, since the leaves are input to the
// same room.
func (r *RoomServer) removeGuestsAfter(outputs []api.OutputEvent) {
	if r.guests == nil {
		return
	}
	for _, roomID := range guestAccessRevoked(outputs) {
		go r.removeGuests(roomID)
	}
}

// guestAccessRevoked lists the rooms whose current m.room.guest_access
// became something other than can_join in outputs.
func guestAccessRevoked(outputs []api.OutputEvent) []string {
	var rooms []string
	for _, o := range outputs {
		ore := o.NewRoomEvent
		if o.Type != api.OutputTypeNewRoomEvent || ore == nil || !addsOwnEvent(ore) {
			continue
		}
		ev := gjson.ParseBytes(ore.Event)
		sk := ev.Get("state_key")
		if ev.Get("type").Str != spec.MRoomGuestAccess || !sk.Exists() || sk.Str != "" ||
			ev.Get("content.guest_access").Str == "can_join" || slices.Contains(rooms, ore.RoomID) {
			continue
		}
		rooms = append(rooms, ore.RoomID)
	}
	return rooms
}

// addsOwnEvent: the output's event entered current state.
func addsOwnEvent(ore *api.OutputNewRoomEvent) bool {
	if ore.StateDelta != nil {
		return ore.StateDelta.AddsEvent
	}
	return slices.Contains(ore.AddsStateEventIDs, ore.EventID)
}

// removeGuests makes the room's joined local guests leave; a failure is
// logged and the others still go.
func (r *RoomServer) removeGuests(roomID string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	members, err := r.QueryCurrentState(ctx, matrixid.RoomID(roomID), nil)
	if err != nil {
		r.log.Warn("guest_access revoked: reading members", "room_id", roomID, "error", err)
		return
	}
	for _, ev := range members {
		sk := ev.StateKey()
		if ev.Type() != spec.MRoomMember || sk == nil || !strings.HasSuffix(*sk, ":"+string(r.serverName)) ||
			gjson.GetBytes(ev.Content(), "membership").Str != "join" {
			continue
		}
		acct, err := r.guests.QueryAccount(ctx, matrixid.UserID(*sk))
		if err != nil || acct == nil || !acct.IsGuest {
			continue
		}
		userID := *sk
		resp, err := r.InputRoomEvents(ctx, &api.InputRoomEventsRequest{Events: []api.InputRoomEvent{{Kind: api.KindNew, Local: &api.LocalEvent{
			RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(userID), Type: spec.MRoomMember, StateKey: &userID,
			Content: json.RawMessage(`{"membership":"leave"}`)}}}})
		if err == nil && len(resp.Results) == 1 && resp.Results[0].Err != nil {
			err = resp.Results[0].Err
		}
		if err != nil {
			r.log.Warn("guest_access revoked: removing guest", "room_id", roomID, "user_id", userID, "error", err)
		}
	}
}
