package clientapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

func (h *roomRoutes) getState(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	at, r := h.visibleState(ctx, dev, roomID)
	if r != nil {
		return *r
	}
	evs, err := h.roomState(ctx, roomID, at, nil)
	if err != nil {
		return h.rsError(err, "state")
	}
	return httputil.OK(rsapi.ToClientEvents(evs, rsapi.FormatOptions{}))
}

func (h *roomRoutes) getStateEvent(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID, evType, stateKey := req.PathValue("roomId"), req.PathValue("eventType"), req.PathValue("stateKey")
	at, r := h.visibleState(ctx, dev, roomID)
	if r != nil {
		return *r
	}
	evs, err := h.roomState(ctx, roomID, at, []rsapi.StateKey{{Type: matrixid.EventType(evType), StateKey: stateKey}})
	if err != nil {
		return h.rsError(err, "state")
	}
	// "*" is a wildcard in the roomserver query; here it is literal.
	for _, ev := range evs {
		if ev.StateKeyEquals(stateKey) {
			if req.URL.Query().Get("format") == "event" {
				return httputil.OK(rsapi.ToClientEvent(ev.PDU, rsapi.FormatOptions{}))
			}
			return httputil.OK(json.RawMessage(ev.Content()))
		}
	}
	return httputil.NotFound("Event not found")
}

func (h *roomRoutes) timestampToEvent(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	roomID := req.PathValue("roomId")
	q := req.URL.Query()
	ts, err := strconv.ParseInt(q.Get("ts"), 10, 64)
	if err != nil {
		return httputil.InvalidParam("ts must be a timestamp in milliseconds")
	}
	dir := q.Get("dir")
	if dir != "f" && dir != "b" {
		return httputil.InvalidParam("dir must be f or b")
	}
	if _, r := h.visibleState(ctx, dev, roomID); r != nil {
		return *r
	}
	id, got, err := h.rs.QueryEventByTimestamp(ctx, matrixid.RoomID(roomID), ts, dir)
	if err != nil {
		return h.rsError(err, "timestamp")
	}
	if id == "" {
		return httputil.NotFound("No event found")
	}
	return httputil.OK(map[string]any{"event_id": id, "origin_server_ts": got})
}
