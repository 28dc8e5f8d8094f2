package syncapi

import (
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// mutualRoomsPage bounds one page of GET .../user/mutual_rooms (MSC2666).
const mutualRoomsPage = 100

// handleMutualRooms serves MSC2666's GET /user/mutual_rooms?user_id=…:
// the rooms the caller and user_id are both joined to, paged by
// batch_token (the last room ID of the previous page).
func (s *SyncAPI) handleMutualRooms(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	q := req.URL.Query()
	other := q.Get("user_id")
	if other == "" {
		return httputil.MissingParam("user_id is required")
	}
	if !strings.HasPrefix(other, "@") || !strings.Contains(other, ":") || len(other) > 255 {
		return httputil.InvalidParam("%q is not a user ID", other)
	}
	if other == dev.UserID {
		return httputil.InvalidParam("user_id must be another user")
	}
	after := q.Get("batch_token")
	if len(after) > 255 {
		return httputil.InvalidParam("Invalid batch_token")
	}
	ctx := req.Context()
	s.waitCaughtUp(ctx)
	rooms, err := s.db.MutualRooms(ctx, dev.UserID, other, after, mutualRoomsPage+1)
	if err != nil {
		s.log.Error("mutual rooms", "error", err)
		return httputil.InternalError()
	}
	out := map[string]any{}
	if len(rooms) > mutualRoomsPage {
		rooms = rooms[:mutualRoomsPage]
		out["next_batch_token"] = rooms[len(rooms)-1]
	}
	if rooms == nil {
		rooms = []string{}
	}
	out["joined"] = rooms
	return httputil.OK(out)
}
