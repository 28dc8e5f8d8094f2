package clientapi

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// guestsMayJoin reads m.room.guest_access content: only "can_join" lets
// guests in.
func guestsMayJoin(content json.RawMessage) bool {
	return gjson.GetBytes(content, "guest_access").Str == "can_join"
}

// removeGuests makes the room's joined local guests leave, as the spec
// requires once guest_access stops being can_join. Each leaves by its own
// membership event; a failure is logged and the others still go.
func (h *roomRoutes) removeGuests(ctx context.Context, roomID string) {
	members, err := h.rs.QueryCurrentState(ctx, matrixid.RoomID(roomID), nil)
	if err != nil {
		h.c.base.Log.Warn("guest_access forbidden: reading members", "room_id", roomID, "error", err)
		return
	}
	for _, ev := range members {
		sk := ev.StateKey()
		if ev.Type() != spec.MRoomMember || sk == nil || !strings.HasSuffix(*sk, ":"+h.server) ||
			gjson.GetBytes(ev.Content(), "membership").Str != "join" {
			continue
		}
		acct, err := h.c.users.QueryAccount(ctx, matrixid.UserID(*sk))
		if err != nil || acct == nil || !acct.IsGuest {
			continue
		}
		userID := *sk
		if _, r := h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(userID), Type: spec.MRoomMember, StateKey: &userID,
			Content: json.RawMessage(`{"membership":"leave"}`)}, nil, unknownRoom(roomID)); r != nil {
			h.c.base.Log.Warn("guest_access forbidden: removing guest", "room_id", roomID, "user_id", userID, "status", r.Code)
		}
	}
}
