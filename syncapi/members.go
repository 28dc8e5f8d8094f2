package syncapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// handleMembers serves GET /rooms/{roomId}/members: the room's member
// events, filtered by membership / not_membership. They are those of the
// current state, or of the state at "at": a /sync or /messages token
// (served here since syncapi owns stream positions) or an event ID. A
// former member sees them as of their leave at the latest; a point in
// history the user may not see is refused.
func (s *SyncAPI) handleMembers(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	if !strings.HasPrefix(roomID, "!") {
		return httputil.InvalidParam("Invalid room ID")
	}
	q := req.URL.Query()
	s.waitCaughtUp(ctx)
	cur := s.notif.Current().PDU
	mv, errResp := s.accessibleView(ctx, dev.UserID, roomID, cur)
	if errResp != nil {
		return *errResp
	}
	rs, horizon, err := s.viewerState(ctx, mv, roomID, cur)
	if err != nil {
		s.log.Error("members", "error", err)
		return httputil.InternalError()
	}
	state := rs.all()
	if at := q.Get("at"); at != "" {
		pos, r := s.membersAtPos(req, roomID, at)
		if r != nil {
			return *r
		}
		if pos < horizon {
			if state, r = s.membersAt(req, mv, roomID, pos, horizon); r != nil {
				return *r
			}
		}
	}
	want, notWant := q.Get("membership"), q.Get("not_membership")
	chunk := make([]json.RawMessage, 0, len(state))
	for _, ev := range state {
		if ev.Type != spec.MRoomMember || (want != "" && ev.Membership != want) || (notWant != "" && ev.Membership == notWant) {
			continue
		}
		chunk = append(chunk, ev.Serve("", nil))
	}
	return httputil.OK(map[string]any{"chunk": chunk})
}

// membersAtPos is the position "at" names: a token's, or an event's own
// (the state after it).
func (s *SyncAPI) membersAtPos(req *http.Request, roomID, at string) (types.StreamPosition, *httputil.JSONResponse) {
	if strings.HasPrefix(at, "$") {
		ev, err := s.db.EventByID(req.Context(), nil, at)
		if err != nil {
			s.log.Error("members", "error", err)
			r := httputil.InternalError()
			return 0, &r
		}
		if ev == nil || ev.RoomID != roomID {
			r := httputil.NotFound("Event not found")
			return 0, &r
		}
		return ev.Pos, nil
	}
	tok, err := types.ParsePaginationToken(at)
	if err != nil {
		r := httputil.InvalidParam("Invalid at token")
		return 0, &r
	}
	return tok.Pos, nil
}

// membersAt is the member state after the room's last event at or before
// pos (no event: none), which the user must be allowed to see; horizon
// bounds what they may see at all.
func (s *SyncAPI) membersAt(req *http.Request, mv *memberView, roomID string, pos, horizon types.StreamPosition) ([]*types.Event, *httputil.JSONResponse) {
	ctx := req.Context()
	fail := func(err error) ([]*types.Event, *httputil.JSONResponse) {
		s.log.Error("members", "error", err)
		r := httputil.InternalError()
		return nil, &r
	}
	last, err := s.db.RoomEvents(ctx, roomID, types.MinBackfillPos-1, min(pos, horizon), 1, true)
	if err != nil {
		return fail(err)
	}
	if len(last) == 0 || last[0].Type == spec.MRoomCreate {
		// Before anyone joined: the members as the room began, its
		// creator. A client asking with the prev_batch of a timeline that
		// starts at the create event wants the members of that timeline,
		// and an empty room state is of no use to it (other servers answer
		// the same; Complement's TestGetRoomMembersAtPoint).
		if last, err = s.firstMemberEvent(ctx, roomID, horizon); err != nil {
			return fail(err)
		}
		if len(last) == 0 {
			return nil, nil
		}
	}
	if ev := last[0]; !mv.visible(ev) && !mv.ignored[ev.Sender] {
		r := httputil.Forbidden("You may not see the room at that point")
		return nil, &r
	}
	if s.rooms == nil {
		return fail(errors.New("no roomserver to ask for past state"))
	}
	after, err := s.rooms.QueryStateAfterEvent(ctx, matrixid.RoomID(roomID), matrixid.EventID(last[0].EventID), []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}})
	if err != nil {
		return fail(err)
	}
	ids := make([]string, 0, len(after))
	for _, ev := range after {
		ids = append(ids, ev.EventID())
	}
	evs, err := s.db.EventsByIDs(ctx, ids)
	if err != nil {
		return fail(err)
	}
	return evs, nil
}

// firstMemberEvent is the room's first member event (its creator's join)
// at or before horizon, as a one-element list; none if there is none.
func (s *SyncAPI) firstMemberEvent(ctx context.Context, roomID string, horizon types.StreamPosition) ([]*types.Event, error) {
	first, err := s.db.RoomEvents(ctx, roomID, types.MinBackfillPos-1, horizon, 3, false)
	if err != nil {
		return nil, err
	}
	for _, ev := range first {
		if ev.Type == spec.MRoomMember {
			return []*types.Event{ev}, nil
		}
	}
	return nil, nil
}
