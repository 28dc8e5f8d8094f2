package federationapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// Limits on history requests from other servers.
const (
	maxBackfill      = 100
	maxMissingEvents = 100
)

func (f *FederationAPI) txnResponse(pdus []*rsapi.Event) httputil.JSONResponse {
	return httputil.OK(map[string]any{"origin": f.id.ServerName, "origin_server_ts": spec.AsTimestamp(time.Now()), "pdus": eventJSONs(pdus)})
}

// roomEvent loads one event of roomID ("" for any room) or answers 404.
func (f *FederationAPI) roomEvent(req *FedRequest, roomID, eventID string) (*rsapi.Event, *httputil.JSONResponse) {
	evs, err := f.rooms.QueryEvents(req.Context(), []matrixid.EventID{matrixid.EventID(eventID)})
	if err != nil {
		r := f.internal("query event", err)
		return nil, &r
	}
	if len(evs) == 0 || (roomID != "" && evs[0].RoomID().String() != roomID) {
		r := httputil.NotFound("Unknown event %s", eventID)
		return nil, &r
	}
	return evs[0], nil
}

func (f *FederationAPI) getEvent(req *FedRequest) httputil.JSONResponse {
	ev, r := f.roomEvent(req, "", req.PathValue("eventID"))
	if r != nil {
		return *r
	}
	if _, r := f.roomAccess(req.Context(), ev.RoomID().String(), req.Origin, true); r != nil {
		return *r
	}
	return f.txnResponse([]*rsapi.Event{ev})
}

func (f *FederationAPI) getState(idsOnly bool) FedHandler {
	return func(req *FedRequest) httputil.JSONResponse {
		ctx := req.Context()
		roomID := req.PathValue("roomID")
		eventID := req.URL.Query().Get("event_id")
		if eventID == "" {
			return httputil.MissingParam("Missing event_id")
		}
		if _, r := f.roomAccess(ctx, roomID, req.Origin, true); r != nil {
			return *r
		}
		state, err := f.rooms.QueryStateBeforeEvent(ctx, matrixid.RoomID(roomID), matrixid.EventID(eventID))
		if err != nil {
			return f.rsError("state before event", err)
		}
		chain, err := f.authChain(ctx, state)
		if err != nil {
			return f.internal("auth chain", err)
		}
		if idsOnly {
			return httputil.OK(map[string]any{"pdu_ids": eventIDs(state), "auth_chain_ids": eventIDs(chain)})
		}
		return f.eventsBody(nil, map[string][]*rsapi.Event{"pdus": state, "auth_chain": chain})
	}
}

func (f *FederationAPI) getEventAuth(req *FedRequest) httputil.JSONResponse {
	roomID := req.PathValue("roomID")
	if _, r := f.roomAccess(req.Context(), roomID, req.Origin, true); r != nil {
		return *r
	}
	ev, r := f.roomEvent(req, roomID, req.PathValue("eventID"))
	if r != nil {
		return *r
	}
	chain, err := f.authChain(req.Context(), []*rsapi.Event{ev})
	if err != nil {
		return f.internal("auth chain", err)
	}
	return f.eventsBody(nil, map[string][]*rsapi.Event{"auth_chain": chain})
}

// walkBack collects up to limit events reachable backwards through
// prev_events from start (included), never entering stop; newest first
// by depth.
func (f *FederationAPI) walkBack(req *FedRequest, roomID string, start, stop []string, limit int, minDepth int64, includeStart bool) ([]*rsapi.Event, error) {
	seen := map[string]bool{}
	for _, id := range stop {
		seen[id] = true
	}
	var out []*rsapi.Event
	frontier := slices.Clone(start)
	for _, id := range start {
		seen[id] = true
	}
	first := true
	for len(frontier) > 0 && len(out) < limit {
		evs, err := f.rooms.QueryEvents(req.Context(), matrixid.From[matrixid.EventID](frontier))
		if err != nil {
			return nil, err
		}
		frontier = nil
		for _, e := range evs {
			if e.RoomID().String() != roomID {
				continue
			}
			if (!first || includeStart) && len(out) < limit && e.Depth() >= minDepth {
				out = append(out, e)
			}
			if e.Depth() < minDepth {
				continue
			}
			for _, p := range e.PrevEventIDs() {
				if !seen[p] {
					seen[p] = true
					frontier = append(frontier, p)
				}
			}
		}
		first = false
	}
	slices.SortStableFunc(out, func(a, b *rsapi.Event) int { return int(b.Depth() - a.Depth()) })
	return out, nil
}

func (f *FederationAPI) backfill(req *FedRequest) httputil.JSONResponse {
	roomID := req.PathValue("roomID")
	if _, r := f.roomAccess(req.Context(), roomID, req.Origin, true); r != nil {
		return *r
	}
	q := req.URL.Query()
	from := q["v"]
	if len(from) == 0 {
		return httputil.MissingParam("Missing v")
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		return httputil.InvalidParam("limit must be a positive integer")
	}
	evs, err := f.walkBack(req, roomID, from, nil, min(limit, maxBackfill), 0, true)
	if err != nil {
		return f.internal("backfill", err)
	}
	if evs, err = f.redactInvisible(req.Context(), req.Origin, roomID, evs); err != nil {
		return f.internal("backfill visibility", err)
	}
	return f.txnResponse(evs)
}

func (f *FederationAPI) getMissingEvents(req *FedRequest) httputil.JSONResponse {
	roomID := req.PathValue("roomID")
	if _, r := f.roomAccess(req.Context(), roomID, req.Origin, true); r != nil {
		return *r
	}
	var body struct {
		Limit    int      `json:"limit"`
		MinDepth int64    `json:"min_depth"`
		Earliest []string `json:"earliest_events"`
		Latest   []string `json:"latest_events"`
	}
	if err := json.Unmarshal(req.Content, &body); err != nil {
		return httputil.BadJSON("Invalid request: %v", err)
	}
	if body.Limit <= 0 {
		body.Limit = 10
	}
	evs, err := f.walkBack(req, roomID, body.Latest, body.Earliest, min(body.Limit, maxMissingEvents), body.MinDepth, false)
	if err != nil {
		return f.internal("missing events", err)
	}
	if evs, err = f.redactInvisible(req.Context(), req.Origin, roomID, evs); err != nil {
		return f.internal("missing events visibility", err)
	}
	slices.Reverse(evs) // oldest first
	return httputil.OK(map[string]any{"events": eventJSONs(evs)})
}

func (f *FederationAPI) timestampToEvent(req *FedRequest) httputil.JSONResponse {
	roomID := req.PathValue("roomID")
	if _, r := f.roomAccess(req.Context(), roomID, req.Origin, true); r != nil {
		return *r
	}
	q := req.URL.Query()
	ts, err := strconv.ParseInt(q.Get("ts"), 10, 64)
	if err != nil || ts < 0 {
		return httputil.InvalidParam("ts must be a timestamp")
	}
	dir := q.Get("dir")
	if dir != "f" && dir != "b" {
		return httputil.InvalidParam("dir must be f or b")
	}
	id, at, err := f.rooms.QueryEventByTimestamp(req.Context(), matrixid.RoomID(roomID), ts, dir)
	if err != nil {
		return f.rsError("timestamp to event", err)
	}
	if id == "" {
		return httputil.Error(http.StatusNotFound, "M_NOT_FOUND", "No event found")
	}
	return httputil.OK(map[string]any{"event_id": id, "origin_server_ts": at})
}
