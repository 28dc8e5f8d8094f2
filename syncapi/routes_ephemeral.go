package syncapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// isJoined reports whether userID is joined to roomID now.
func (s *SyncAPI) isJoined(ctx context.Context, userID, roomID string) (bool, error) {
	rs, err := s.cache.get(ctx, roomID)
	if err != nil {
		return false, err
	}
	m := rs.get("m.room.member", userID)
	return m != nil && m.Membership == "join", nil
}

// handleTyping serves PUT /rooms/{roomId}/typing/{userId}.
func (s *SyncAPI) handleTyping(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID := req.PathValue("roomId")
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot set typing for another user")
	}
	var body struct {
		Typing  *bool  `json:"typing"`
		Timeout *int64 `json:"timeout"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Typing == nil {
		return httputil.BadJSON("Missing 'typing'")
	}
	joined, err := s.isJoined(req.Context(), dev.UserID, roomID)
	if err != nil {
		s.log.Error("typing", "error", err)
		return httputil.InternalError()
	}
	if !joined {
		return httputil.Forbidden("You are not in this room")
	}
	timeout := 30 * time.Second
	if body.Timeout != nil && *body.Timeout > 0 {
		timeout = min(time.Duration(*body.Timeout)*time.Millisecond, 2*time.Minute)
	}
	s.presenceActivity(req.Context(), dev.UserID)
	if pos := s.typing.Set(roomID, dev.UserID, *body.Typing, timeout); pos > 0 {
		s.notif.WakeRoom(roomID, func(t *types.StreamToken) { t.Typing = pos })
	}
	s.publishEDU(req.Context(), stream.Typing, &api.OutputTyping{Origin: s.base.Cfg.ServerName, RoomID: roomID, UserID: dev.UserID,
		Typing: *body.Typing, TimeoutMS: timeout.Milliseconds()})
	return httputil.Empty()
}

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
	case "m.fully_read":
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
		pos, err = storage.UpsertReceipt(ctx, tx, r)
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
	if rtype == "m.read.private" {
		s.notif.Advance(func(t *types.StreamToken) { t.Receipt = pos }, userID)
		return httputil.Empty()
	}
	s.notif.WakeRoom(roomID, func(t *types.StreamToken) { t.Receipt = pos })
	s.publishEDU(ctx, stream.Receipts, &api.OutputReceipt{Origin: s.base.Cfg.ServerName, RoomID: roomID, UserID: userID,
		Type: rtype, EventID: eventID, ThreadID: threadID, TS: r.TS})
	return httputil.Empty()
}

// setFullyRead stores m.fully_read as room account data through the userapi.
func (s *SyncAPI) setFullyRead(ctx context.Context, userID, roomID, eventID string) httputil.JSONResponse {
	if _, errResp := s.receiptTarget(ctx, userID, roomID, eventID); errResp != nil {
		return *errResp
	}
	content, _ := json.Marshal(map[string]string{"event_id": eventID})
	if err := s.setAccountData(ctx, userID, roomID, "m.fully_read", content); err != nil {
		s.log.Error("set m.fully_read", "error", err)
		return httputil.InternalError()
	}
	return httputil.Empty()
}

// setAccountData writes through the userapi (which publishes to the
// account_data stream that syncapi consumes).
func (s *SyncAPI) setAccountData(ctx context.Context, userID, roomID, typ string, content json.RawMessage) error {
	return s.users.SetAccountData(ctx, userID, roomID, typ, content)
}

// handleGetPresence serves GET /presence/{userId}/status.
func (s *SyncAPI) handleGetPresence(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	userID := req.PathValue("userId")
	if !s.base.Cfg.Presence.Enabled {
		return httputil.OK(map[string]any{"presence": "offline"})
	}
	if userID != dev.UserID && !s.notif.SharesRoom(userID, dev.UserID) {
		return httputil.Forbidden("You do not share a room with this user")
	}
	p, err := s.db.GetPresence(req.Context(), userID)
	if err != nil {
		s.log.Error("get presence", "error", err)
		return httputil.InternalError()
	}
	if p == nil {
		return httputil.OK(map[string]any{"presence": "offline"})
	}
	p.LastActiveTS = s.presence.lastActive(p.UserID, p.LastActiveTS)
	return httputil.OK(presenceContent(*p))
}

// handleSetPresence serves PUT /presence/{userId}/status.
func (s *SyncAPI) handleSetPresence(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot set presence for another user")
	}
	var body struct {
		Presence  string  `json:"presence"`
		StatusMsg *string `json:"status_msg"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	switch body.Presence {
	case "online", "offline", "unavailable":
	default:
		return httputil.InvalidParam("presence must be online, offline or unavailable")
	}
	if !s.base.Cfg.Presence.Enabled {
		return httputil.Empty()
	}
	p := storage.Presence{UserID: dev.UserID, Presence: body.Presence, StatusMsg: body.StatusMsg,
		LastActiveTS: time.Now().UnixMilli(), CurrentlyActive: body.Presence == "online"}
	if err := s.setPresence(req.Context(), p); err != nil {
		s.log.Error("set presence", "error", err)
		return httputil.InternalError()
	}
	s.presence.stored(dev.UserID, body.Presence, false)
	return httputil.Empty()
}

// handleSendToDevice serves PUT /sendToDevice/{eventType}/{txnId}. A
// repeated txnId from the same device is acknowledged without resending.
func (s *SyncAPI) handleSendToDevice(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	evType, txnID := req.PathValue("eventType"), req.PathValue("txnId")
	var body struct {
		Messages map[string]map[string]json.RawMessage `json:"messages"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	type target struct{ user, device string }
	local := map[target]json.RawMessage{}
	var publish []api.OutputSendToDevice // for other servers and appservices
	for userID, devices := range body.Messages {
		for deviceID, content := range devices {
			if !json.Valid(content) || len(content) == 0 || content[0] != '{' {
				return httputil.BadJSON("Message content for %s/%s must be an object", userID, deviceID)
			}
			if !s.isLocal(userID) {
				publish = append(publish, api.OutputSendToDevice{Origin: s.base.Cfg.ServerName, Sender: dev.UserID, UserID: userID, DeviceID: deviceID, Type: evType, Content: content})
				continue
			}
			if s.base.Cfg.ToDeviceForAppservice(userID) { // the appservice component pushes it on (syncapi skips its own)
				publish = append(publish, api.OutputSendToDevice{Origin: s.base.Cfg.ServerName, Sender: dev.UserID, UserID: userID, DeviceID: deviceID, Type: evType, Content: content})
			}
			if deviceID != "*" {
				local[target{userID, deviceID}] = content
				continue
			}
			devs, err := s.users.QueryDevices(ctx, userID)
			if err != nil {
				continue // unknown user: nothing to deliver
			}
			for _, d := range devs {
				local[target{userID, d.DeviceID}] = content
			}
		}
	}
	var pos types.StreamPosition
	seen := false
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		if seen, err = storage.ToDeviceTxnSeen(ctx, tx, dev.UserID, dev.ID, evType+"/"+txnID, time.Now().UnixMilli()); err != nil || seen {
			return err
		}
		for t, content := range local {
			if pos, err = storage.InsertToDevice(ctx, tx, t.user, t.device, dev.UserID, evType, content); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("send to device", "error", err)
		return httputil.InternalError()
	}
	if seen {
		return httputil.Empty()
	}
	if pos > 0 {
		users := make([]string, 0, len(local))
		for t := range local {
			users = append(users, t.user)
		}
		s.notif.Advance(func(t *types.StreamToken) { t.ToDevice = pos }, users...)
	}
	for i := range publish {
		s.publishEDU(ctx, stream.SendToDevice, &publish[i])
	}
	return httputil.Empty()
}

// handlePostFilter serves POST /user/{userId}/filter.
func (s *SyncAPI) handlePostFilter(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot create filters for other users")
	}
	data, errResp := httputil.ReadBody(req, httputil.DefaultMaxBodyBytes)
	if errResp != nil {
		return *errResp
	}
	var probe map[string]json.RawMessage
	if errResp := httputil.UnmarshalJSON(data, &probe); errResp != nil {
		return *errResp
	}
	if _, err := types.ParseFilter(data); err != nil {
		return httputil.BadJSON("Invalid filter: %v", err)
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, data)
	id, err := s.db.InsertFilter(req.Context(), dev.UserID, compact.Bytes())
	if err != nil {
		s.log.Error("store filter", "error", err)
		return httputil.InternalError()
	}
	return httputil.OK(map[string]string{"filter_id": id})
}

// handleGetFilter serves GET /user/{userId}/filter/{filterId}.
func (s *SyncAPI) handleGetFilter(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if req.PathValue("userId") != dev.UserID {
		return httputil.Forbidden("Cannot read filters of other users")
	}
	f, err := s.db.GetFilter(req.Context(), dev.UserID, req.PathValue("filterId"))
	if err != nil {
		s.log.Error("get filter", "error", err)
		return httputil.InternalError()
	}
	if f == nil {
		return httputil.NotFound("No such filter")
	}
	return httputil.OK(json.RawMessage(f))
}
