package syncapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Server-side search (POST /search, the room_events category): the
// database's full-text index (storage/search.go) finds candidates in the
// rooms the user has or had a membership in; each is checked with the
// same visibility rule as /messages (memberView), so rooms they left are
// searched up to when they left, and ignored users' events stay hidden.

// Bounds on a search request.
const (
	maxSearchTermBytes = 1000
	maxSearchTerms     = 20
	defaultSearchLimit = 10
	maxSearchLimit     = 50
	maxContextLimit    = 20
)

type searchRequest struct {
	SearchCategories struct {
		RoomEvents *roomEventsCriteria `json:"room_events"`
	} `json:"search_categories"`
}

type roomEventsCriteria struct {
	SearchTerm   *string                `json:"search_term"`
	Keys         []string               `json:"keys"`
	Filter       *types.RoomEventFilter `json:"filter"`
	OrderBy      string                 `json:"order_by"`
	EventContext *struct {
		BeforeLimit    *int `json:"before_limit"`
		AfterLimit     *int `json:"after_limit"`
		IncludeProfile bool `json:"include_profile"`
	} `json:"event_context"`
	IncludeState bool `json:"include_state"`
	Groupings    struct {
		GroupBy []struct {
			Key string `json:"key"`
		} `json:"group_by"`
	} `json:"groupings"`
}

// searchTerms splits a search term into lower-case words of letters and
// digits, as both engines' tokenizers see them.
func searchTerms(term string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(term), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
		if len(w) > 100 || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
		if len(out) == maxSearchTerms {
			break
		}
	}
	return out
}

// handleSearch serves POST /search.
func (s *SyncAPI) handleSearch(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	var body searchRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	c := body.SearchCategories.RoomEvents
	if c == nil {
		return httputil.OK(map[string]any{"search_categories": map[string]any{}})
	}
	if c.SearchTerm == nil {
		return httputil.MissingParam("search_term is required")
	}
	if len(*c.SearchTerm) > maxSearchTermBytes {
		return httputil.InvalidParam("search_term is limited to %d bytes", maxSearchTermBytes)
	}
	q := storage.SearchQuery{Terms: searchTerms(*c.SearchTerm), Keys: c.Keys}
	if len(q.Keys) == 0 {
		q.Keys = []string{"content.body", "content.name", "content.topic"}
	}
	for _, k := range q.Keys {
		if k != "content.body" && k != "content.name" && k != "content.topic" {
			return httputil.InvalidParam("Unknown search key %q", k)
		}
	}
	switch c.OrderBy {
	case "", "rank":
		q.ByRank = true
	case "recent":
	default:
		return httputil.InvalidParam("order_by must be rank or recent")
	}
	for _, g := range c.Groupings.GroupBy {
		if g.Key != "room_id" && g.Key != "sender" {
			return httputil.InvalidParam("Unknown group_by key %q", g.Key)
		}
	}
	filter := c.Filter
	if filter == nil {
		filter = &types.RoomEventFilter{}
	}
	limit := defaultSearchLimit
	if filter.Limit != nil {
		if *filter.Limit < 1 {
			return httputil.InvalidParam("filter.limit must be positive")
		}
		limit = min(*filter.Limit, maxSearchLimit)
	}
	if nb := req.URL.Query().Get("next_batch"); nb != "" {
		n, err := strconv.ParseInt(nb, 10, 64)
		if err != nil || n < 0 {
			return httputil.InvalidParam("Invalid next_batch")
		}
		if q.ByRank {
			q.Offset = int(min(n, 1<<30))
		} else {
			q.Before = n
		}
	}
	s.waitCaughtUp(ctx)
	res, err := s.search(ctx, dev, q, filter, limit)
	if err != nil {
		s.log.Error("search", "error", err)
		return httputil.InternalError()
	}
	out, err := s.searchResponse(ctx, dev, c, res)
	if err != nil {
		s.log.Error("search", "error", err)
		return httputil.InternalError()
	}
	return httputil.OK(map[string]any{"search_categories": map[string]any{"room_events": out}})
}

// searchResult is one page of visible matches.
type searchResult struct {
	hits      []storage.SearchHit
	events    []*types.Event
	views     map[string]*memberView
	count     int
	terms     []string
	nextBatch string
}

// search pages through index matches until limit visible events are
// found or the matches run out.
func (s *SyncAPI) search(ctx context.Context, dev *uapi.Device, q storage.SearchQuery, filter *types.RoomEventFilter, limit int) (*searchResult, error) {
	cur := s.notif.Current().PDU
	ms, err := s.db.MembershipsAt(ctx, dev.UserID, cur)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if filter.AllowsRoom(m.RoomID) {
			q.Rooms = append(q.Rooms, m.RoomID)
		}
	}
	res := &searchResult{views: map[string]*memberView{}, terms: q.Terms}
	if res.count, err = s.db.SearchCount(ctx, q); err != nil {
		return nil, err
	}
	q.Limit = min(4*limit, 200)
	for len(res.events) < limit {
		hits, err := s.db.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		pos := make([]types.StreamPosition, len(hits))
		for i, h := range hits {
			pos[i] = h.Pos
		}
		evs, err := s.db.EventsByPos(ctx, pos)
		if err != nil {
			return nil, err
		}
		byPos := make(map[types.StreamPosition]*types.Event, len(evs))
		for _, ev := range evs {
			byPos[ev.Pos] = ev
		}
		for i, h := range hits {
			ev := byPos[h.Pos]
			if ev != nil && filter.AllowsEvent(ev) {
				mv := res.views[h.RoomID]
				if mv == nil {
					if mv, err = s.roomView(ctx, dev.UserID, h.RoomID, cur); err != nil {
						return nil, err
					}
					res.views[h.RoomID] = mv
				}
				if mv.visible(ev) {
					res.hits, res.events = append(res.hits, h), append(res.events, ev)
				}
			}
			if len(res.events) == limit {
				// A full page always carries next_batch (clients and
				// other servers expect one); when nothing follows, the
				// next page is empty and has none.
				res.nextBatch = nextSearchBatch(&q, i+1, h)
				return res, nil
			}
		}
		if len(hits) < q.Limit {
			return res, nil
		}
		q.Offset += len(hits)
		q.Before = int64(hits[len(hits)-1].Pos)
		if !q.ByRank {
			q.Offset = 0
		}
	}
	return res, nil
}

// nextSearchBatch is the token after the consumed'th hit of this page:
// an offset for rank order, a position for recent order.
func nextSearchBatch(q *storage.SearchQuery, consumed int, last storage.SearchHit) string {
	if q.ByRank {
		return strconv.Itoa(q.Offset + consumed)
	}
	return strconv.FormatInt(int64(last.Pos), 10)
}

// searchResponse builds the room_events category of the response.
func (s *SyncAPI) searchResponse(ctx context.Context, dev *uapi.Device, c *roomEventsCriteria, res *searchResult) (map[string]any, error) {
	results := make([]map[string]any, 0, len(res.events))
	groups := map[string]map[string]map[string]any{}
	for _, g := range c.Groupings.GroupBy {
		groups[g.Key] = map[string]map[string]any{}
	}
	for i, ev := range res.events {
		r := map[string]any{"rank": res.hits[i].Rank, "result": ev.Serve(dev.ID, nil)}
		if c.EventContext != nil {
			evCtx, err := s.searchContext(ctx, dev, ev, res.views[ev.RoomID], c)
			if err != nil {
				return nil, err
			}
			r["context"] = evCtx
		}
		results = append(results, r)
		for key, byValue := range groups {
			v := ev.RoomID
			if key == "sender" {
				v = ev.Sender
			}
			g := byValue[v]
			if g == nil {
				g = map[string]any{"results": []string{}, "order": len(byValue) + 1}
				byValue[v] = g
			}
			g["results"] = append(g["results"].([]string), ev.EventID)
		}
	}
	highlights := res.terms
	if highlights == nil {
		highlights = []string{}
	}
	out := map[string]any{"count": res.count, "highlights": highlights, "results": results}
	if res.nextBatch != "" {
		out["next_batch"] = res.nextBatch
	}
	if len(groups) > 0 {
		out["groups"] = groups
	}
	if c.IncludeState {
		state := map[string][]json.RawMessage{}
		for _, ev := range res.events {
			if _, done := state[ev.RoomID]; done {
				continue
			}
			rs, err := s.cache.get(ctx, ev.RoomID)
			if err != nil {
				return nil, err
			}
			evs := make([]json.RawMessage, 0, len(rs.all()))
			for _, st := range rs.all() {
				evs = append(evs, st.Serve("", nil))
			}
			state[ev.RoomID] = evs
		}
		out["state"] = state
	}
	return out, nil
}

// searchContext is a result's event_context: visible events around it,
// tokens for /messages, and (include_profile) the senders' profiles.
func (s *SyncAPI) searchContext(ctx context.Context, dev *uapi.Device, ev *types.Event, mv *memberView, c *roomEventsCriteria) (map[string]any, error) {
	before, after := 5, 5
	if b := c.EventContext.BeforeLimit; b != nil {
		before = max(0, min(*b, maxContextLimit))
	}
	if a := c.EventContext.AfterLimit; a != nil {
		after = max(0, min(*a, maxContextLimit))
	}
	cur := s.notif.Current().PDU
	pb := &paging{from: ev.Pos - 1, backwards: true, limit: before}
	evsBefore, lastB, _, err := s.paginate(ctx, ev.RoomID, pb, cur, nil, mv)
	if err != nil {
		return nil, err
	}
	pf := &paging{from: ev.Pos, limit: after}
	evsAfter, lastF, _, err := s.paginate(ctx, ev.RoomID, pf, cur, nil, mv)
	if err != nil {
		return nil, err
	}
	start, end := types.TopologyToken{Pos: ev.Pos - 1}, types.TopologyToken{Pos: ev.Pos}
	if len(evsBefore) > 0 {
		start = pb.nextToken(lastB)
	}
	if len(evsAfter) > 0 {
		end = pf.nextToken(lastF)
	}
	serve := func(evs []*types.Event) []json.RawMessage {
		out := make([]json.RawMessage, 0, len(evs))
		for _, e := range evs {
			out = append(out, e.Serve(dev.ID, nil))
		}
		return out
	}
	out := map[string]any{"events_before": serve(evsBefore), "events_after": serve(evsAfter), "start": start.String(), "end": end.String()}
	if c.EventContext.IncludeProfile {
		rs, err := s.cache.get(ctx, ev.RoomID)
		if err != nil {
			return nil, err
		}
		profiles := map[string]map[string]string{}
		for _, e := range append(append([]*types.Event{ev}, evsBefore...), evsAfter...) {
			if _, done := profiles[e.Sender]; done {
				continue
			}
			p := map[string]string{}
			if n := rs.contentField(spec.MRoomMember, e.Sender, "displayname").Str; n != "" {
				p["displayname"] = n
			}
			if a := rs.contentField(spec.MRoomMember, e.Sender, "avatar_url").Str; a != "" {
				p["avatar_url"] = a
			}
			profiles[e.Sender] = p
		}
		out["profile_info"] = profiles
	}
	return out, nil
}
