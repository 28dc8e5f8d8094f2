package reports

import (
	"net/http"
	"strings"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/reports/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// maxReasonBytes bounds a report's reason.
const maxReasonBytes = 2000

type reportRequest struct {
	Reason *string `json:"reason"`
	// Score (-100 most offensive .. 0) was removed from the spec in v1.13;
	// older clients still send it.
	Score *int `json:"score"`
}

// handleReportEvent serves POST /rooms/{roomId}/report/{eventId}.
func (r *Reports) handleReportEvent(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID, eventID := req.PathValue("roomId"), req.PathValue("eventId")
	if !isID(roomID, '!') {
		return httputil.InvalidParam("%q is not a room ID", roomID)
	}
	if !strings.HasPrefix(eventID, "$") || len(eventID) > 255 {
		return httputil.InvalidParam("%q is not an event ID", eventID)
	}
	return r.report(req, dev, storage.Report{RoomID: roomID, EventID: eventID}, false)
}

// handleReportRoom serves POST /rooms/{roomId}/report.
func (r *Reports) handleReportRoom(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID := req.PathValue("roomId")
	if !isID(roomID, '!') {
		return httputil.InvalidParam("%q is not a room ID", roomID)
	}
	return r.report(req, dev, storage.Report{RoomID: roomID}, true)
}

// handleReportUser serves POST /users/{userId}/report.
func (r *Reports) handleReportUser(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	userID := req.PathValue("userId")
	if !isID(userID, '@') {
		return httputil.InvalidParam("%q is not a user ID", userID)
	}
	return r.report(req, dev, storage.Report{UserID: userID}, true)
}

// report validates the body and stores the report. reasonRequired: the
// room and user reports require reason (it may be blank).
func (r *Reports) report(req *http.Request, dev *uapi.Device, rep storage.Report, reasonRequired bool) httputil.JSONResponse {
	if errResp := r.limit.Check(req, dev.UserID); errResp != nil {
		return *errResp
	}
	var body reportRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Reason == nil && reasonRequired {
		return httputil.MissingParam("reason is required (it may be empty)")
	}
	if body.Reason != nil {
		if len(*body.Reason) > maxReasonBytes {
			return httputil.InvalidParam("reason is limited to %d bytes", maxReasonBytes)
		}
		rep.Reason = *body.Reason
	}
	if body.Score != nil {
		if *body.Score < -100 || *body.Score > 0 {
			return httputil.InvalidParam("score must be between -100 and 0")
		}
		rep.Score = body.Score
	}
	rep.Reporter, rep.TS = dev.UserID, time.Now().UnixMilli()
	if err := r.db.AddReport(req.Context(), rep); err != nil {
		r.log.Error("store report", "error", err)
		return httputil.InternalError()
	}
	return httputil.Empty()
}

// isID checks the shape sigil + localpart ":" server, bounded.
func isID(s string, sigil byte) bool {
	if len(s) < 4 || len(s) > 255 || s[0] != sigil {
		return false
	}
	_, server, ok := strings.Cut(s[1:], ":")
	return ok && server != ""
}
