package federationapi

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// fedHierarchyRoom is one room of a federation /hierarchy response.
type fedHierarchyRoom struct {
	rsapi.RoomSummary
	ChildrenState  []rsapi.StrippedChild `json:"children_state"`
	AllowedRoomIDs []string              `json:"allowed_room_ids,omitempty"`
}

// hierarchy answers for one space and its direct children (the asking
// server walks further itself). Children unknown here are left out;
// known ones the origin could not join or peek are listed as
// inaccessible.
func (f *FederationAPI) hierarchy(req *FedRequest) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomID")
	suggestedOnly := req.URL.Query().Get("suggested_only") == "true"
	if _, r := f.roomAccess(ctx, roomID, req.Origin, false); r != nil {
		return *r
	}
	root, err := f.rooms.QueryRoomSummary(ctx, matrixid.RoomID(roomID))
	if err != nil {
		return f.rsError("room summary", err)
	}
	if !f.hierarchyVisible(ctx, root, req.Origin) {
		return httputil.NotFound("Room %s is not accessible to %s", roomID, req.Origin)
	}
	room := hierarchyEntry(root, suggestedOnly)
	children := []fedHierarchyRoom{}
	inaccessible := []string{}
	for _, ev := range room.ChildrenState {
		child, err := f.rooms.QueryRoomSummary(ctx, matrixid.RoomID(ev.StateKey))
		if err != nil || f.aclDenies(ctx, ev.StateKey, req.Origin) {
			continue // not known here: the asker tries the child's own servers
		}
		if !f.hierarchyVisible(ctx, child, req.Origin) {
			inaccessible = append(inaccessible, ev.StateKey)
			continue
		}
		children = append(children, hierarchyEntry(child, false))
	}
	return httputil.OK(map[string]any{"room": room, "children": children, "inaccessible_children": inaccessible})
}

// hierarchyVisible: could origin's users see or try to join the room?
func (f *FederationAPI) hierarchyVisible(ctx context.Context, s *rsapi.RoomSummary, origin spec.ServerName) bool {
	switch s.JoinRule {
	case spec.Public, spec.Knock, spec.Restricted, spec.KnockRestricted:
		return true
	}
	if s.WorldReadable {
		return true
	}
	in, err := f.rooms.QueryServerInRoom(ctx, matrixid.RoomID(s.RoomID), string(origin))
	return err == nil && in
}

// hierarchyEntry is a room with its m.space.child events (only the
// suggested ones with suggestedOnly).
func hierarchyEntry(s *rsapi.RoomSummary, suggestedOnly bool) fedHierarchyRoom {
	children, _ := s.StrippedChildren(suggestedOnly)
	return fedHierarchyRoom{RoomSummary: *s, AllowedRoomIDs: s.AllowedRoomIDs, ChildrenState: children}
}
