package syncapi

import (
	"context"
	"net/http"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// handleAdminMessages serves the admin API's
// GET /_synapse/admin/v1/rooms/{roomId}/messages: /messages over the
// whole room whatever the admin's membership and the history visibility
// (from, to, limit, dir (default f), filter). Served here because syncapi
// holds the room's history.
func (s *SyncAPI) handleAdminMessages(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if !dev.IsAdmin {
		return httputil.Forbidden("You are not a server admin")
	}
	return s.messages(req, dev, true)
}

// adminView sees every event of a room this server knows.
func (s *SyncAPI) adminView(ctx context.Context, userID, roomID string) (*memberView, *httputil.JSONResponse) {
	rs, err := s.cache.get(ctx, roomID)
	if err != nil {
		s.log.Error("room state", "error", err)
		r := httputil.InternalError()
		return nil, &r
	}
	if rs.get(spec.MRoomCreate, "") == nil {
		r := httputil.NotFound("Room %s is not known to this server", roomID)
		return nil, &r
	}
	mv := s.newMemberView(ctx, userID, roomID, storage.MembershipChange{}, "join")
	mv.all, mv.ignored = true, nil
	return mv, nil
}
