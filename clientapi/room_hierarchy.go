package clientapi

import (
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// hierarchyRoom is one room of a /hierarchy response.
type hierarchyRoom struct {
	rsapi.RoomSummary
	ChildrenState []rsapi.StrippedChild `json:"children_state"`
}

// hierarchy walks a space's m.space.child links breadth-first over local
// rooms the user may see (joined, world-readable or publicly joinable).
// "from" is an offset into that walk.
func (h *roomRoutes) hierarchy(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	root := req.PathValue("roomId")
	q := req.URL.Query()
	limit, maxDepth, from := 50, 100, 0
	var err error
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return httputil.InvalidParam("Invalid limit")
		}
	}
	if v := q.Get("max_depth"); v != "" {
		if maxDepth, err = strconv.Atoi(v); err != nil || maxDepth < 0 {
			return httputil.InvalidParam("Invalid max_depth")
		}
	}
	if v := q.Get("from"); v != "" {
		if from, err = strconv.Atoi(v); err != nil || from < 0 {
			return httputil.InvalidParam("Invalid from token")
		}
	}
	suggestedOnly := q.Get("suggested_only") == "true"
	if !h.canSeeRoom(req, dev, root) {
		return httputil.Forbidden("You cannot view room %s", root)
	}
	type item struct {
		roomID string
		depth  int
	}
	queue := []item{{root, 0}}
	seen := map[string]bool{root: true}
	var rooms []hierarchyRoom
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		s, err := h.rs.QueryRoomSummary(ctx, matrixid.RoomID(it.roomID))
		if err != nil {
			continue // unknown (remote) rooms are skipped
		}
		if it.roomID != root && !h.canSeeRoom(req, dev, it.roomID) {
			continue
		}
		children, idx := s.StrippedChildren(suggestedOnly)
		hr := hierarchyRoom{RoomSummary: *s, ChildrenState: children}
		for _, i := range idx {
			child := s.Children[i].RoomID
			if it.depth < maxDepth && !seen[child] {
				seen[child] = true
				queue = append(queue, item{child, it.depth + 1})
			}
		}
		rooms = append(rooms, hr)
	}
	if from > len(rooms) {
		from = len(rooms)
	}
	end := min(from+limit, len(rooms))
	resp := map[string]any{"rooms": rooms[from:end]}
	if rooms == nil || from == end {
		resp["rooms"] = []hierarchyRoom{}
	}
	if end < len(rooms) {
		resp["next_batch"] = strconv.Itoa(end)
	}
	return httputil.OK(resp)
}

func (h *roomRoutes) canSeeRoom(req *http.Request, dev *uapi.Device, roomID string) bool {
	ctx := req.Context()
	if m, _, err := h.rs.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(dev.UserID)); err == nil && (m == "join" || m == "invite") {
		return true
	}
	s, err := h.rs.QueryRoomSummary(ctx, matrixid.RoomID(roomID))
	return err == nil && (s.WorldReadable || s.JoinRule == "public")
}
