package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rapi "github.com/axon-hs/axon/reports/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// Event reports (GET/DELETE /v1/event_reports...): the reports component
// stores them; the room's name and alias and the event's sender and JSON
// come from the roomserver.

// eventReportJSON is a report as Synapse's admin API shows it.
type eventReportJSON struct {
	ID             int64           `json:"id"`
	ReceivedTS     int64           `json:"received_ts"`
	RoomID         string          `json:"room_id"`
	Name           *string         `json:"name"`
	EventID        string          `json:"event_id"`
	UserID         string          `json:"user_id"`
	Reason         *string         `json:"reason"`
	Score          *int            `json:"score"`
	Sender         string          `json:"sender"`
	CanonicalAlias *string         `json:"canonical_alias"`
	EventJSON      json.RawMessage `json:"event_json,omitempty"`
}

// reportContext fills in what the roomserver knows of reports' rooms and
// events (nothing for a room or event it no longer has).
type reportContext struct {
	a     *AdminAPI
	rooms map[string][2]*string // room ID -> name, canonical alias
}

func (c *reportContext) fill(ctx context.Context, rep rapi.EventReport, withEvent bool) eventReportJSON {
	out := eventReportJSON{ID: rep.ID, ReceivedTS: rep.TS, RoomID: rep.RoomID, EventID: rep.EventID, UserID: rep.Reporter, Score: rep.Score}
	if rep.Reason != "" {
		out.Reason = &rep.Reason
	}
	info, ok := c.rooms[rep.RoomID]
	if !ok {
		evs, err := c.a.rooms.QueryCurrentState(ctx, matrixid.RoomID(rep.RoomID), []rsapi.StateKey{{Type: spec.MRoomName}, {Type: spec.MRoomCanonicalAlias}})
		if err == nil {
			for _, ev := range evs {
				switch ev.Type() {
				case spec.MRoomName:
					info[0] = strPtr(gjson.GetBytes(ev.Content(), "name").Str)
				case spec.MRoomCanonicalAlias:
					info[1] = strPtr(gjson.GetBytes(ev.Content(), "alias").Str)
				}
			}
		}
		c.rooms[rep.RoomID] = info
	}
	out.Name, out.CanonicalAlias = info[0], info[1]
	if evs, err := c.a.rooms.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(rep.EventID)}); err == nil && len(evs) == 1 && evs[0].RoomID().String() == rep.RoomID {
		out.Sender = evs[0].SenderID().ToUserID().String()
		if withEvent {
			out.EventJSON = evs[0].JSON()
		}
	}
	return out
}

// listEventReports serves GET /v1/event_reports.
func (a *AdminAPI) listEventReports(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	from, limit, r := paging(req, 100)
	if r != nil {
		return *r
	}
	q := req.URL.Query()
	query := rapi.EventReportsQuery{From: from, Limit: limit, RoomID: q.Get("room_id"), UserID: q.Get("user_id")}
	switch q.Get("dir") {
	case "", "b":
	case "f":
		query.Forward = true
	default:
		return httputil.InvalidParam("dir must be f or b")
	}
	if len(query.RoomID) > 255 || len(query.UserID) > 255 {
		return httputil.InvalidParam("room_id and user_id are limited to 255 bytes")
	}
	page, err := a.reports.QueryEventReports(req.Context(), query)
	if err != nil {
		return a.fail(err, "event reports")
	}
	c := &reportContext{a: a, rooms: map[string][2]*string{}}
	out := make([]eventReportJSON, 0, len(page.Reports))
	for _, rep := range page.Reports {
		out = append(out, c.fill(req.Context(), rep, false))
	}
	body := map[string]any{"event_reports": out, "total": page.Total}
	if next := from + len(out); next < page.Total {
		body["next_token"] = next
	}
	return httputil.OK(body)
}

// reportID reads the path's report ID.
func reportID(req *http.Request) (int64, *httputil.JSONResponse) {
	id, err := strconv.ParseInt(req.PathValue("reportId"), 10, 64)
	if err != nil || id < 0 {
		r := httputil.InvalidParam("The report ID must be a non-negative integer")
		return 0, &r
	}
	return id, nil
}

// getEventReport serves GET /v1/event_reports/{reportId}.
func (a *AdminAPI) getEventReport(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	id, r := reportID(req)
	if r != nil {
		return *r
	}
	rep, err := a.reports.QueryEventReport(req.Context(), id)
	if err != nil {
		return a.reportFail(err, "event report")
	}
	c := &reportContext{a: a, rooms: map[string][2]*string{}}
	return httputil.OK(c.fill(req.Context(), *rep, true))
}

// deleteEventReport serves DELETE /v1/event_reports/{reportId}.
func (a *AdminAPI) deleteEventReport(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	id, r := reportID(req)
	if r != nil {
		return *r
	}
	if err := a.reports.DeleteEventReport(req.Context(), id); err != nil {
		return a.reportFail(err, "delete event report")
	}
	return httputil.Empty()
}

func (a *AdminAPI) reportFail(err error, action string) httputil.JSONResponse {
	if errors.Is(err, rapi.ErrNotFound) {
		return httputil.NotFound("Event report not found")
	}
	return a.fail(err, action)
}
