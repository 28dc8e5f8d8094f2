package syncapi

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// roomInitialSyncLimit is how many recent messages GET
// /rooms/{roomId}/initialSync returns.
const roomInitialSyncLimit = 20

// handleRoomInitialSync serves GET /rooms/{roomId}/initialSync: a
// snapshot of a room the user may view (a member, a former member up to
// their leave, or anyone in a world-readable room: peeking): its state,
// its most recent messages (oldest first, with a token for /messages to
// page back from) and the user's room account data.
func (s *SyncAPI) handleRoomInitialSync(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	s.waitCaughtUp(ctx)
	cur := s.notif.Current()
	mv, errResp := s.accessibleView(ctx, dev.UserID, roomID, cur.PDU)
	if errResp != nil {
		return *errResp
	}
	filter := &types.RoomEventFilter{}
	p := &paging{from: cur.PDU, backwards: true, limit: roomInitialSyncLimit}
	evs, last, more, err := s.paginate(ctx, roomID, p, cur.PDU, filter, mv)
	if err != nil {
		s.log.Error("room initialSync", "error", err)
		return httputil.InternalError()
	}
	rs, horizon, err := s.viewerState(ctx, mv, roomID, cur.PDU)
	if err != nil {
		s.log.Error("room initialSync", "error", err)
		return httputil.InternalError()
	}
	rels, err := s.aggregations(ctx, evs, horizon, dev.UserID)
	if err != nil {
		s.log.Error("room initialSync", "error", err)
		return httputil.InternalError()
	}
	slices.Reverse(evs)
	chunk := make([]json.RawMessage, 0, len(evs))
	for _, ev := range evs {
		chunk = append(chunk, ev.ServeTo(dev.ID, mv.membershipAt(ev), rels[ev.EventID]))
	}
	start := types.TopologyToken{Pos: p.from}
	if more || len(evs) > 0 {
		start = p.nextToken(last)
	}
	state := []json.RawMessage{}
	for _, ev := range rs.all() {
		state = append(state, ev.Serve("", nil))
	}
	ad, err := s.db.AccountDataBetween(ctx, dev.UserID, 0, cur.AccountData)
	if err != nil {
		s.log.Error("room initialSync", "error", err)
		return httputil.InternalError()
	}
	accountData := []json.RawMessage{}
	for _, a := range ad {
		if a.RoomID == roomID {
			ev, _ := json.Marshal(map[string]any{"type": a.Type, "content": a.Content})
			accountData = append(accountData, ev)
		}
	}
	resp := map[string]any{
		"room_id":      roomID,
		"messages":     map[string]any{"chunk": chunk, "start": start.String(), "end": types.TopologyToken{Pos: horizon}.String()},
		"state":        state,
		"account_data": accountData,
	}
	if mv.current != "" {
		resp["membership"] = mv.current
	}
	return httputil.OK(resp)
}
