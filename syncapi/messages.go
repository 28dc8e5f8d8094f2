package syncapi

import (
	"context"
	"encoding/json"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// paging is a parsed from/to/dir/limit.
type paging struct {
	from, to  types.StreamPosition
	hasTo     bool
	backwards bool
	limit     int
}

func parsePaging(from, to, dir, limit, defaultDir string, cur types.StreamPosition) (*paging, *httputil.JSONResponse) {
	bad := func(msg string) (*paging, *httputil.JSONResponse) {
		r := httputil.InvalidParam("%s", msg)
		return nil, &r
	}
	if dir == "" {
		dir = defaultDir
	}
	if dir != "b" && dir != "f" {
		return bad("dir must be 'b' or 'f'")
	}
	p := &paging{backwards: dir == "b", limit: 10}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 0 {
			return bad("limit must be a non-negative integer")
		}
		p.limit = min(n, types.MaxTimelineLimit)
	}
	if from != "" {
		tok, err := types.ParsePaginationToken(from)
		if err != nil {
			return bad("Invalid from token")
		}
		p.from = min(tok.Pos, cur)
	} else if p.backwards {
		p.from = cur
	}
	if to != "" {
		tok, err := types.ParsePaginationToken(to)
		if err != nil {
			return bad("Invalid to token")
		}
		p.to, p.hasTo = tok.Pos, true
	}
	return p, nil
}

// bounds is the (lo, hi] position range the paging covers.
func (p *paging) bounds() (types.StreamPosition, types.StreamPosition) {
	if p.backwards {
		lo := types.MinBackfillPos - 1 // into backfilled history
		if p.hasTo {
			lo = p.to
		}
		return lo, p.from
	}
	hi := types.StreamPosition(1<<62 - 1)
	if p.hasTo {
		hi = p.to
	}
	return p.from, hi
}

// nextToken is the token continuing after the event at last.
func (p *paging) nextToken(last types.StreamPosition) types.TopologyToken {
	if p.backwards {
		return types.TopologyToken{Pos: last - 1}
	}
	return types.TopologyToken{Pos: last}
}

// paginate walks roomID in one direction from the paging's start,
// returning up to limit visible events passing filter (in walk order),
// the position of the last event it examined and whether more remain.
func (s *SyncAPI) paginate(ctx context.Context, roomID string, p *paging, hiCap types.StreamPosition, filter *types.RoomEventFilter, mv *memberView) ([]*types.Event, types.StreamPosition, bool, error) {
	lo, hi := p.bounds()
	hi = min(hi, hiCap)
	var out []*types.Event
	var last types.StreamPosition
	batch := p.limit + 1
	if filter != nil && !filter.IsEmpty() {
		batch = max(batch, 100)
	}
	for lo < hi && len(out) < p.limit {
		rows, err := s.db.RoomEvents(ctx, roomID, lo, hi, batch, p.backwards)
		if err != nil {
			return nil, 0, false, err
		}
		for _, ev := range rows {
			if len(out) == p.limit {
				return out, last, true, mv.err
			}
			last = ev.Pos
			if (filter == nil || filter.AllowsEvent(ev)) && mv.visible(ev) {
				out = append(out, ev)
			}
		}
		if len(rows) < batch {
			return out, last, false, mv.err
		}
		if p.backwards {
			hi = rows[len(rows)-1].Pos - 1
		} else {
			lo = rows[len(rows)-1].Pos
		}
	}
	return out, last, lo < hi && len(out) > 0, mv.err
}

// roomEventFilterParam parses the filter query parameter of /messages and /context.
func roomEventFilterParam(v string) (*types.RoomEventFilter, *httputil.JSONResponse) {
	f := &types.RoomEventFilter{}
	if v == "" {
		return f, nil
	}
	if err := json.Unmarshal([]byte(v), f); err != nil {
		r := httputil.BadJSON("Invalid filter: %v", err)
		return nil, &r
	}
	return f, nil
}

// accessibleView returns the user's view of the room, or an error
// response if they never had any membership there (or forgot the room
// since leaving it) and it is not world readable.
func (s *SyncAPI) accessibleView(ctx context.Context, userID, roomID string, cur types.StreamPosition) (*memberView, *httputil.JSONResponse) {
	mv, err := s.roomView(ctx, userID, roomID, cur)
	if err == nil && (mv.current == "leave" || mv.current == "ban") {
		var forgot string
		if forgot, err = s.db.ForgottenEvent(ctx, userID, roomID); err == nil && forgot != "" && forgot == mv.latest.EventID {
			// A forgotten room is seen as by someone never in it.
			mv = s.newMemberView(ctx, userID, roomID, storage.MembershipChange{}, "")
			mv.loaded = true
		}
	}
	if err != nil {
		s.log.Error("membership view", "error", err)
		r := httputil.InternalError()
		return nil, &r
	}
	if mv.current == "" {
		rs, err := s.cache.get(ctx, roomID)
		if err != nil || !rs.worldReadable() {
			r := httputil.Forbidden("You are not allowed to view this room")
			return nil, &r
		}
	}
	return mv, nil
}

// handleMessages serves GET /rooms/{roomId}/messages.
func (s *SyncAPI) handleMessages(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	return s.messages(req, dev, false)
}

// messages pages through a room's history: as the user may see it, or
// all of it for a server admin (admin API, no backfill; messages_admin.go).
func (s *SyncAPI) messages(req *http.Request, dev *uapi.Device, admin bool) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	q := req.URL.Query()
	s.waitCaughtUp(ctx)
	cur := s.notif.Current().PDU
	defaultDir := "b"
	if admin {
		defaultDir = "f"
	}
	p, errResp := parsePaging(q.Get("from"), q.Get("to"), q.Get("dir"), q.Get("limit"), defaultDir, cur)
	if errResp != nil {
		return *errResp
	}
	filter, errResp := roomEventFilterParam(q.Get("filter"))
	if errResp != nil {
		return *errResp
	}
	if filter.Limit != nil && q.Get("limit") == "" {
		p.limit = min(*filter.Limit, types.MaxTimelineLimit)
	}
	var mv *memberView
	if admin {
		mv, errResp = s.adminView(ctx, dev.UserID, roomID)
	} else {
		mv, errResp = s.accessibleView(ctx, dev.UserID, roomID, cur)
	}
	if errResp != nil {
		return *errResp
	}
	evs, last, more, err := s.paginate(ctx, roomID, p, cur, filter, mv)
	if err == nil && !admin && p.backwards && !more && !p.hasTo && len(evs) < p.limit {
		evs, last, more, err = s.backfillPage(ctx, roomID, p, cur, filter, mv, evs, last)
	}
	if err != nil {
		s.log.Error("messages", "error", err)
		return httputil.InternalError()
	}
	rs, horizon, err := s.viewerState(ctx, mv, roomID, cur)
	if err != nil {
		s.log.Error("messages", "error", err)
		return httputil.InternalError()
	}
	rels, err := s.aggregations(ctx, evs, horizon, dev.UserID)
	if err != nil {
		s.log.Error("messages", "error", err)
		return httputil.InternalError()
	}
	chunk := make([]json.RawMessage, 0, len(evs))
	for _, ev := range evs {
		chunk = append(chunk, ev.ServeTo(dev.ID, mv.membershipAt(ev), rels[ev.EventID]))
	}
	start := types.TopologyToken{Pos: p.from}
	resp := map[string]any{"start": start.String(), "chunk": chunk}
	if more || endsShortOfCreate(p, evs) {
		resp["end"] = p.nextToken(last).String()
	}
	if filter.LazyLoadMembers && len(evs) > 0 {
		state := []json.RawMessage{}
		for _, m := range lazyMembers(rs, evs, dev.UserID) {
			state = append(state, m.Serve("", nil))
		}
		resp["state"] = state
	}
	return httputil.OK(resp)
}

// endsShortOfCreate reports a backward page that found nothing older but
// did not reach the room's create event (a filter or the history
// visibility left it out). Its `end` is kept, as clients and other servers
// expect, and the next request answers an empty chunk without one; `end`
// is left out at once only when the start of the room is in the page.
func endsShortOfCreate(p *paging, evs []*types.Event) bool {
	return p.backwards && len(evs) > 0 && evs[len(evs)-1].Type != spec.MRoomCreate
}

// handleContext serves GET /rooms/{roomId}/context/{eventId}.
func (s *SyncAPI) handleContext(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID, eventID := req.PathValue("roomId"), req.PathValue("eventId")
	q := req.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return httputil.InvalidParam("limit must be a non-negative integer")
		}
		limit = min(n, 100)
	}
	filter, errResp := roomEventFilterParam(q.Get("filter"))
	if errResp != nil {
		return *errResp
	}
	s.waitCaughtUp(ctx)
	cur := s.notif.Current().PDU
	mv, errResp := s.accessibleView(ctx, dev.UserID, roomID, cur)
	if errResp != nil {
		return *errResp
	}
	ev, err := s.db.EventByID(ctx, nil, eventID)
	if err != nil {
		s.log.Error("context", "error", err)
		return httputil.InternalError()
	}
	if ev == nil || ev.RoomID != roomID || !mv.visible(ev) {
		return httputil.NotFound("Event not found")
	}
	before, after := limit/2, limit-limit/2
	pb := &paging{from: ev.Pos - 1, backwards: true, limit: before}
	evsBefore, lastB, _, err := s.paginate(ctx, roomID, pb, cur, filter, mv)
	if err != nil {
		s.log.Error("context", "error", err)
		return httputil.InternalError()
	}
	pf := &paging{from: ev.Pos, limit: after}
	evsAfter, lastF, _, err := s.paginate(ctx, roomID, pf, cur, filter, mv)
	if err != nil {
		s.log.Error("context", "error", err)
		return httputil.InternalError()
	}
	all := append(append([]*types.Event{ev}, evsBefore...), evsAfter...)
	rs, horizon, err := s.viewerState(ctx, mv, roomID, cur)
	if err != nil {
		s.log.Error("context", "error", err)
		return httputil.InternalError()
	}
	rels, err := s.aggregations(ctx, all, horizon, dev.UserID)
	if err != nil {
		s.log.Error("context", "error", err)
		return httputil.InternalError()
	}
	serve := func(evs []*types.Event) []json.RawMessage {
		out := make([]json.RawMessage, 0, len(evs))
		for _, e := range evs {
			out = append(out, e.ServeTo(dev.ID, mv.membershipAt(e), rels[e.EventID]))
		}
		return out
	}
	start, end := types.TopologyToken{Pos: ev.Pos - 1}, types.TopologyToken{Pos: ev.Pos}
	if len(evsBefore) > 0 {
		start = pb.nextToken(lastB)
	}
	if len(evsAfter) > 0 {
		end = pf.nextToken(lastF)
	}
	stateFilter := *filter
	state := stateEvents(rs.all(), nil, &stateFilter, dev.UserID, true)
	if filter.LazyLoadMembers {
		state = []json.RawMessage{}
		for _, m := range lazyMembers(rs, all, dev.UserID) {
			state = append(state, m.Serve("", nil))
		}
	}
	return httputil.OK(map[string]any{
		"event": ev.ServeTo(dev.ID, mv.membershipAt(ev), rels[ev.EventID]), "events_before": serve(evsBefore), "events_after": serve(evsAfter),
		"start": start.String(), "end": end.String(), "state": state,
	})
}

// handleEvent serves GET /rooms/{roomId}/event/{eventId}: one event the
// user may see, with the same bundled aggregations /messages and
// /context attach. An event the user may not see, of a room they may not
// view, or of another room is 404 alike, so its existence is not told.
// Senders the user ignores are not hidden here: the client asked for
// that event by ID.
func (s *SyncAPI) handleEvent(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID, eventID := req.PathValue("roomId"), req.PathValue("eventId")
	notFound := httputil.NotFound("Event not found or you do not have permission to read it")
	s.waitCaughtUp(ctx)
	cur := s.notif.Current().PDU
	mv, errResp := s.accessibleView(ctx, dev.UserID, roomID, cur)
	if errResp != nil {
		if errResp.Code == http.StatusForbidden {
			return notFound
		}
		return *errResp
	}
	mv.ignored = nil
	ev, err := s.db.EventByID(ctx, nil, eventID)
	if err != nil {
		s.log.Error("event", "error", err)
		return httputil.InternalError()
	}
	if ev == nil {
		// Not in the timeline syncapi keeps (an outlier, e.g. state a
		// join over federation fetched): the roomserver's copy, under its
		// visibility rules.
		if ev, err = s.roomserverEvent(ctx, dev.UserID, eventID); err != nil {
			s.log.Error("event", "error", err)
			return httputil.InternalError()
		}
		if ev == nil || ev.RoomID != roomID {
			return notFound
		}
		return httputil.OK(json.RawMessage(ev.Serve(dev.ID, nil)))
	}
	if ev.RoomID != roomID || !mv.visible(ev) {
		return notFound
	}
	_, horizon, err := s.viewerState(ctx, mv, roomID, cur)
	if err != nil {
		s.log.Error("event", "error", err)
		return httputil.InternalError()
	}
	rels, err := s.aggregations(ctx, []*types.Event{ev}, horizon, dev.UserID)
	if err != nil {
		s.log.Error("event", "error", err)
		return httputil.InternalError()
	}
	return httputil.OK(json.RawMessage(ev.ServeTo(dev.ID, mv.membershipAt(ev), rels[ev.EventID])))
}

// roomserverEvent is eventID from the roomserver if userID may see it
// there, formatted as syncapi stores events (an erased sender's message
// erased), or nil.
func (s *SyncAPI) roomserverEvent(ctx context.Context, userID, eventID string) (*types.Event, error) {
	if s.rooms == nil {
		return nil, nil
	}
	evs, err := s.rooms.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(eventID)})
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	vis, err := s.rooms.QueryEventVisibility(ctx, matrixid.UserID(userID), evs)
	if err != nil || len(vis) == 0 || !vis[0] {
		return nil, err
	}
	ev, err := types.EventFromPDU(evs[0].PDU, "")
	if err != nil {
		return nil, err
	}
	s.erased.mu.RLock()
	erased := s.erased.set
	s.erased.mu.RUnlock()
	return ev, eraseIfErased(ev, erased)
}
