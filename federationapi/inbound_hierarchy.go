package federationapi

import (
	"context"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

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
	room, err := f.rooms.QueryHierarchyRoom(ctx, matrixid.RoomID(roomID), suggestedOnly)
	if err != nil {
		return f.rsError("room summary", err)
	}
	if !f.hierarchyVisible(ctx, room, req.Origin) {
		return httputil.NotFound("Room %s is not accessible to %s", roomID, req.Origin)
	}
	children := []rsapi.HierarchyRoom{}
	inaccessible := []string{}
	for _, link := range room.Links() {
		child, err := f.rooms.QueryHierarchyRoom(ctx, matrixid.RoomID(link.RoomID), false)
		if err != nil || f.aclDenies(ctx, link.RoomID, req.Origin) {
			continue // not known here: the asker tries the child's own servers
		}
		if !f.hierarchyVisible(ctx, child, req.Origin) {
			inaccessible = append(inaccessible, link.RoomID)
			continue
		}
		children = append(children, *child)
	}
	return httputil.OK(map[string]any{"room": room, "children": children, "inaccessible_children": inaccessible})
}

// hierarchyVisible: could origin's users see or try to join the room?
// Yes when one of them is joined or invited, or the room may be
// previewed; the origin counts as in an allowed room of a restricted rule
// when one of its users is joined to it as far as this server knows.
func (f *FederationAPI) hierarchyVisible(ctx context.Context, s *rsapi.HierarchyRoom, origin spec.ServerName) bool {
	if in, err := f.rooms.QueryServerInRoom(ctx, matrixid.RoomID(s.RoomID), string(origin)); err == nil && in {
		return true
	}
	if s.Preview().Previewable(nil) {
		return true
	}
	if invited, err := f.rooms.QueryServerInvited(ctx, matrixid.RoomID(s.RoomID), string(origin)); err == nil && invited {
		return true // a user of origin may join
	}
	return s.Preview().Previewable(func(allowed string) bool {
		in, err := f.rooms.QueryServerInRoom(ctx, matrixid.RoomID(allowed), string(origin))
		return err == nil && in
	})
}
