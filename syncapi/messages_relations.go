package syncapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// aggregations computes unsigned.m.relations for evs as seen by userID:
// m.thread (latest reply, count, participation), m.replace (latest valid
// edit) and m.reference (referencing event IDs).
func (s *SyncAPI) aggregations(ctx context.Context, evs []*types.Event, upTo types.StreamPosition, userID string) (map[string]json.RawMessage, error) {
	return s.aggregationsWith(ctx, nil, evs, upTo, userID)
}

// aggregationsWith is aggregations taking the relation rows from pre when
// it holds them (an initial /sync reads them for all rooms at once).
func (s *SyncAPI) aggregationsWith(ctx context.Context, pre *roomPrefetch, evs []*types.Event, upTo types.StreamPosition, userID string) (map[string]json.RawMessage, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	byID := make(map[string]*types.Event, len(evs))
	ids := make([]string, 0, len(evs))
	for _, ev := range evs {
		byID[ev.EventID] = ev
		ids = append(ids, ev.EventID)
	}
	rows, ok := pre.relationsOf(ids, upTo)
	if !ok {
		var err error
		if rows, err = s.relationsOf(ctx, ids, upTo); err != nil {
			return nil, err
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	type thread struct {
		count        int
		latest       string
		participated bool
	}
	threads := map[string]*thread{}
	edits := map[string]storage.RelationRow{}
	refs := map[string][]string{}
	for _, r := range rows {
		parent := byID[r.Parent]
		switch r.RelType {
		case "m.thread":
			t := threads[r.Parent]
			if t == nil {
				t = &thread{participated: parent.Sender == userID}
				threads[r.Parent] = t
			}
			t.count++
			t.latest = r.EventID // rows are in pos order
			t.participated = t.participated || r.Sender == userID
		case "m.replace":
			if parent.Redacted || r.Sender != parent.Sender || r.Type != parent.Type {
				continue
			}
			if cur, ok := edits[r.Parent]; !ok || r.OriginTS > cur.OriginTS || (r.OriginTS == cur.OriginTS && r.EventID > cur.EventID) {
				edits[r.Parent] = r
			}
		case "m.reference":
			refs[r.Parent] = append(refs[r.Parent], r.EventID)
		}
	}
	var fetch []string
	for _, t := range threads {
		fetch = append(fetch, t.latest)
	}
	for _, e := range edits {
		fetch = append(fetch, e.EventID)
	}
	full := map[string]json.RawMessage{}
	if len(fetch) > 0 {
		got, err := s.db.EventsByIDs(ctx, fetch)
		if err != nil {
			return nil, err
		}
		for _, ev := range got {
			full[ev.EventID] = ev.JSON
		}
	}
	out := map[string]json.RawMessage{}
	for _, id := range ids {
		rel := map[string]any{}
		if t := threads[id]; t != nil && full[t.latest] != nil {
			rel["m.thread"] = map[string]any{"latest_event": full[t.latest], "count": t.count, "current_user_participated": t.participated}
		}
		if e, ok := edits[id]; ok && full[e.EventID] != nil {
			rel["m.replace"] = full[e.EventID]
		}
		if r := refs[id]; len(r) > 0 {
			chunk := make([]map[string]string, len(r))
			for i, eid := range r {
				chunk[i] = map[string]string{"event_id": eid}
			}
			rel["m.reference"] = map[string]any{"chunk": chunk}
		}
		if len(rel) > 0 {
			out[id], _ = json.Marshal(rel)
		}
	}
	return out, nil
}

// roomView loads the user's membership view of roomID, or nil if the user
// never had a membership there.
func (s *SyncAPI) roomView(ctx context.Context, userID, roomID string, at types.StreamPosition) (*memberView, error) {
	history, err := s.db.MembershipHistory(ctx, userID, roomID)
	if err != nil {
		return nil, err
	}
	mv := s.newMemberView(ctx, userID, roomID, storage.MembershipChange{}, "")
	mv.history, mv.loaded = history, true
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Pos <= at {
			mv.latest = history[i]
			mv.current = history[i].Membership
			break
		}
	}
	return mv, nil
}

// handleRelations serves GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]].
func (s *SyncAPI) handleRelations(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID, eventID := req.PathValue("roomId"), req.PathValue("eventId")
	s.waitCaughtUp(ctx)
	cur := s.notif.Current().PDU
	q := req.URL.Query()
	pg, errResp := parsePaging(q.Get("from"), q.Get("to"), q.Get("dir"), q.Get("limit"), "b", cur)
	if errResp != nil {
		return *errResp
	}
	parent, err := s.db.EventByID(ctx, nil, eventID)
	if err != nil {
		s.log.Error("relations", "error", err)
		return httputil.InternalError()
	}
	mv, err := s.roomView(ctx, dev.UserID, roomID, cur)
	if err != nil {
		s.log.Error("relations", "error", err)
		return httputil.InternalError()
	}
	if parent == nil || parent.RoomID != roomID || !mv.visible(parent) {
		return httputil.NotFound("Event not found")
	}
	lo, hi := pg.bounds()
	evs, err := s.db.Relations(ctx, eventID, req.PathValue("relType"), req.PathValue("eventType"), lo, hi, pg.limit+1, pg.backwards)
	if err != nil {
		s.log.Error("relations", "error", err)
		return httputil.InternalError()
	}
	more := len(evs) > pg.limit
	if more {
		evs = evs[:pg.limit]
	}
	chunk := []json.RawMessage{}
	for _, ev := range evs {
		if mv.visible(ev) {
			chunk = append(chunk, ev.ServeTo(dev.ID, mv.membershipAt(ev), nil))
		}
	}
	resp := map[string]any{"chunk": chunk}
	if more {
		resp["next_batch"] = pg.nextToken(evs[len(evs)-1].Pos).String()
	}
	return httputil.OK(resp)
}

// handleThreads serves GET /rooms/{roomId}/threads.
func (s *SyncAPI) handleThreads(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	q := req.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return httputil.InvalidParam("limit must be a positive integer")
		}
		limit = min(n, 100)
	}
	participant := ""
	switch q.Get("include") {
	case "", "all":
	case "participated":
		participant = dev.UserID
	default:
		return httputil.InvalidParam("include must be all or participated")
	}
	var before types.StreamPosition
	if v := q.Get("from"); v != "" {
		tok, err := types.ParsePaginationToken(v)
		if err != nil {
			return httputil.InvalidParam("Invalid from token")
		}
		before = tok.Pos
	}
	s.waitCaughtUp(ctx)
	cur := s.notif.Current().PDU
	mv, err := s.roomView(ctx, dev.UserID, roomID, cur)
	if err != nil {
		s.log.Error("threads", "error", err)
		return httputil.InternalError()
	}
	if mv.current == "" {
		return httputil.Forbidden("You are not in this room")
	}
	roots, err := s.db.Threads(ctx, roomID, before, participant, limit+1)
	if err != nil {
		s.log.Error("threads", "error", err)
		return httputil.InternalError()
	}
	more := len(roots) > limit
	if more {
		roots = roots[:limit]
	}
	ids := make([]string, len(roots))
	for i, r := range roots {
		ids[i] = r.RootID
	}
	evs, err := s.db.EventsByIDs(ctx, ids)
	if err != nil {
		s.log.Error("threads", "error", err)
		return httputil.InternalError()
	}
	byID := map[string]*types.Event{}
	var visible []*types.Event
	for _, ev := range evs {
		if mv.visible(ev) {
			byID[ev.EventID] = ev
			visible = append(visible, ev)
		}
	}
	_, horizon, err := s.viewerState(ctx, mv, roomID, cur)
	if err != nil {
		s.log.Error("threads", "error", err)
		return httputil.InternalError()
	}
	rels, err := s.aggregations(ctx, visible, horizon, dev.UserID)
	if err != nil {
		s.log.Error("threads", "error", err)
		return httputil.InternalError()
	}
	chunk := []json.RawMessage{}
	for _, r := range roots {
		if ev := byID[r.RootID]; ev != nil {
			chunk = append(chunk, ev.ServeTo(dev.ID, mv.membershipAt(ev), rels[ev.EventID]))
		}
	}
	resp := map[string]any{"chunk": chunk}
	if more {
		resp["next_batch"] = types.TopologyToken{Pos: roots[len(roots)-1].Latest}.String()
	}
	return httputil.OK(resp)
}
