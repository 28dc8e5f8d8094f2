package syncapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// handleReceipt serves POST /rooms/{roomId}/receipt/{receiptType}/{eventId}.
func (s *SyncAPI) handleReceipt(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		ThreadID string `json:"thread_id"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	roomID, rtype, eventID := req.PathValue("roomId"), req.PathValue("receiptType"), req.PathValue("eventId")
	switch rtype {
	case "m.read", "m.read.private":
	case matrixrules.MFullyRead:
		if body.ThreadID != "" {
			return httputil.InvalidParam("m.fully_read cannot be threaded")
		}
		return s.setFullyRead(req.Context(), dev.UserID, roomID, eventID)
	default:
		return httputil.InvalidParam("Unknown receipt type %q", rtype)
	}
	return s.setReceipt(req.Context(), dev.UserID, roomID, rtype, eventID, body.ThreadID)
}

// handleReadMarkers serves POST /rooms/{roomId}/read_markers.
func (s *SyncAPI) handleReadMarkers(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		FullyRead   string `json:"m.fully_read"`
		Read        string `json:"m.read"`
		ReadPrivate string `json:"m.read.private"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	roomID := req.PathValue("roomId")
	if body.FullyRead != "" {
		if r := s.setFullyRead(req.Context(), dev.UserID, roomID, body.FullyRead); r.IsError() {
			return r
		}
	}
	if body.Read != "" {
		if r := s.setReceipt(req.Context(), dev.UserID, roomID, "m.read", body.Read, ""); r.IsError() {
			return r
		}
	}
	if body.ReadPrivate != "" {
		if r := s.setReceipt(req.Context(), dev.UserID, roomID, "m.read.private", body.ReadPrivate, ""); r.IsError() {
			return r
		}
	}
	return httputil.Empty()
}

// receiptTarget checks the user is joined and the event is in the room.
// An event syncapi does not have yet is looked for again once syncapi
// has applied every write acknowledged before the request.
func (s *SyncAPI) receiptTarget(ctx context.Context, userID, roomID, eventID string) (*types.Event, *httputil.JSONResponse) {
	joined, err := s.isJoined(ctx, userID, roomID)
	if err != nil {
		s.log.Error("receipt", "error", err)
		r := httputil.InternalError()
		return nil, &r
	}
	if !joined {
		r := httputil.Forbidden("You are not in this room")
		return nil, &r
	}
	ev, err := s.db.EventByID(ctx, nil, eventID)
	if err == nil && ev == nil {
		// The client's own message the moment its send returned: syncapi
		// applies it from the log a little later.
		s.waitCaughtUp(ctx)
		ev, err = s.db.EventByID(ctx, nil, eventID)
	}
	if err != nil {
		s.log.Error("receipt", "error", err)
		r := httputil.InternalError()
		return nil, &r
	}
	if ev == nil || ev.RoomID != roomID {
		r := httputil.NotFound("Event not found in this room")
		return nil, &r
	}
	return ev, nil
}

func (s *SyncAPI) setReceipt(ctx context.Context, userID, roomID, rtype, eventID, threadID string) httputil.JSONResponse {
	ev, errResp := s.receiptTarget(ctx, userID, roomID, eventID)
	if errResp != nil {
		return *errResp
	}
	r := storage.Receipt{RoomID: roomID, Type: rtype, UserID: userID, ThreadID: threadID, EventID: eventID, EventPos: ev.Pos, TS: time.Now().UnixMilli()}
	var pos types.StreamPosition
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		pos, err = s.db.UpsertReceipt(ctx, tx, r)
		return err
	})
	if err != nil {
		s.log.Error("store receipt", "error", err)
		return httputil.InternalError()
	}
	s.presenceActivity(ctx, userID)
	if pos == 0 {
		return httputil.Empty() // older than the current receipt
	}
	s.pushersRead(userID) // badge counts went down
	if rtype == "m.read.private" {
		s.notif.Advance(func(t *types.StreamToken) { t.Receipt = pos }, userID)
		return httputil.Empty()
	}
	s.notif.WakeRoom(roomID, func(t *types.StreamToken) { t.Receipt = pos })
	s.publishEDU(ctx, stream.Receipts, &api.OutputReceipt{Origin: s.base.Cfg.ServerName, RoomID: roomID, UserID: userID,
		Type: rtype, EventID: eventID, ThreadID: threadID, TS: r.TS}, nil)
	return httputil.Empty()
}

// setFullyRead stores m.fully_read as room account data through the userapi.
func (s *SyncAPI) setFullyRead(ctx context.Context, userID, roomID, eventID string) httputil.JSONResponse {
	if _, errResp := s.receiptTarget(ctx, userID, roomID, eventID); errResp != nil {
		return *errResp
	}
	content, _ := json.Marshal(map[string]string{"event_id": eventID})
	if err := s.setAccountData(ctx, userID, roomID, matrixrules.MFullyRead, content); err != nil {
		s.log.Error("set m.fully_read", "error", err)
		return httputil.InternalError()
	}
	return httputil.Empty()
}

// setAccountData writes through the userapi (which publishes to the
// account_data stream that syncapi consumes).
func (s *SyncAPI) setAccountData(ctx context.Context, userID, roomID, typ string, content json.RawMessage) error {
	return s.users.SetAccountData(ctx, matrixid.UserID(userID), matrixid.RoomID(roomID), typ, content)
}
