package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	istorage "github.com/axon-hs/axon/internal/storage"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// noticeTag is the room tag of a server notices room (spec).
const noticeTag = "m.server_notice"

// sendServerNotice: POST /_synapse/admin/v1/send_server_notice
// {user_id, content, type (default m.room.message), state_key}.
func (a *AdminAPI) sendServerNotice(req *http.Request, dev *httputil.Device) httputil.JSONResponse {
	return a.serverNotice(req, dev, nil)
}

// sendServerNoticeTxn: PUT /_synapse/admin/v1/send_server_notice/{txnId},
// idempotent per admin device and transaction ID: a repeat answers the
// event of the first.
func (a *AdminAPI) sendServerNoticeTxn(req *http.Request, dev *httputil.Device) httputil.JSONResponse {
	txnID := req.PathValue("txnId")
	if txnID == "" || len(txnID) > 255 {
		return httputil.InvalidParam("txnId must be 1 to 255 bytes")
	}
	// The event's sender is the notices user, so the admin's device is
	// named in full: no device of the notices user can match it.
	return a.serverNotice(req, dev, &rsapi.TransactionID{DeviceID: "admin " + dev.UserID + " " + dev.ID, TransactionID: txnID})
}

func (a *AdminAPI) serverNotice(req *http.Request, _ *httputil.Device, txn *rsapi.TransactionID) httputil.JSONResponse {
	if !a.base.Cfg.ServerNotices.Enabled {
		return httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "Server notices are not enabled (server_notices.enabled)")
	}
	var body struct {
		UserID   string          `json:"user_id"`
		Content  json.RawMessage `json:"content"`
		Type     string          `json:"type"`
		StateKey *string         `json:"state_key"`
	}
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	var obj map[string]json.RawMessage
	if len(body.Content) == 0 || json.Unmarshal(body.Content, &obj) != nil {
		return httputil.BadJSON("content must be an object")
	}
	if body.Type == "" {
		body.Type = matrixrules.MRoomMessage
	}
	if len(body.Type) > 255 || (body.StateKey != nil && len(*body.StateKey) > 255) {
		return httputil.InvalidParam("type and state_key are at most 255 bytes")
	}
	ctx := req.Context()
	acc, err := a.users.QueryAccount(ctx, matrixid.UserID(body.UserID))
	if err != nil {
		return a.fail(err, "query user")
	}
	if acc.Deactivated || acc.IsGuest {
		return httputil.InvalidParam("Server notices go to active, non-guest local users")
	}
	roomID, err := a.noticeRoom(ctx, body.UserID)
	if err != nil {
		return a.fail(err, "server notices room")
	}
	eventID, err := a.sendTxn(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(a.noticesUserID()), Type: matrixid.EventType(body.Type),
		StateKey: body.StateKey, Content: body.Content}, txn)
	if err != nil {
		return a.fail(err, "send server notice")
	}
	return httputil.OK(map[string]string{"event_id": eventID})
}

func (a *AdminAPI) noticesUserID() string { return a.base.Cfg.ServerNoticesUserID() }

// noticeRoom finds the user's notices room or creates one: a user who
// left it is invited back into the same room (one room per user, spec).
func (a *AdminAPI) noticeRoom(ctx context.Context, userID string) (string, error) {
	h := fnv.New32a()
	h.Write([]byte(userID))
	lock := &a.noticeLocks[h.Sum32()%uint32(len(a.noticeLocks))]
	lock.Lock()
	defer lock.Unlock()

	roomID, err := a.db.NoticeRoom(ctx, userID)
	switch {
	case err == nil:
		membership, _, err := a.rooms.QueryMembership(ctx, matrixid.RoomID(roomID), matrixid.UserID(userID))
		if err != nil {
			return "", err
		}
		if membership == "join" || membership == "invite" {
			return roomID, nil
		}
		if _, err := a.invite(ctx, roomID, userID); err == nil {
			return roomID, nil
		} else if _, ok := rsapi.AsError(err); !ok {
			return "", err
		}
		// Refused by the room's rules (say the user was banned): a new room.
	case !errors.Is(err, istorage.ErrNotFound):
		return "", err
	}
	if err := a.ensureNoticesUser(ctx); err != nil {
		return "", err
	}
	roomID, err = a.createNoticeRoom(ctx, userID)
	if err != nil {
		return "", err
	}
	if err := a.users.SetRoomTag(ctx, matrixid.UserID(userID), matrixid.RoomID(roomID), noticeTag, json.RawMessage(`{}`)); err != nil {
		return "", err
	}
	return roomID, a.db.SetNoticeRoom(ctx, userID, roomID)
}

// ensureNoticesUser creates the notices user on first use, with a
// password nobody knows.
func (a *AdminAPI) ensureNoticesUser(ctx context.Context) error {
	cfg := a.base.Cfg.ServerNotices
	_, err := a.users.QueryAccount(ctx, matrixid.UserID(a.noticesUserID()))
	if !errors.Is(err, uapi.ErrNotFound) {
		return err
	}
	if _, err := a.users.CreateAccount(ctx, cfg.Localpart, randomString(32), false); err != nil && !errors.Is(err, uapi.ErrUserInUse) {
		return err
	}
	return a.setProfileString(ctx, a.noticesUserID(), "displayname", cfg.DisplayName)
}

// createNoticeRoom creates a read-only room (only the notices user may
// send) and invites userID.
func (a *AdminAPI) createNoticeRoom(ctx context.Context, userID string) (string, error) {
	cfg := a.base.Cfg
	sender := a.noticesUserID()
	events := newRoomEvents(sender, cfg.Rooms.DefaultVersion,
		map[string]any{"membership": "join", "displayname": cfg.ServerNotices.DisplayName},
		map[string]any{"users_default": 0, "events_default": 100, "state_default": 100,
			"ban": 100, "kick": 100, "redact": 100, "invite": 100},
		stateEvent{spec.MRoomJoinRules, map[string]any{"join_rule": "invite"}},
		stateEvent{spec.MRoomHistoryVisibility, map[string]any{"history_visibility": "shared"}},
		stateEvent{spec.MRoomGuestAccess, map[string]any{"guest_access": "forbidden"}},
		stateEvent{spec.MRoomName, map[string]any{"name": cfg.ServerNotices.RoomName}},
	)
	resp, err := a.createRoom(ctx, events)
	if err != nil {
		return "", err
	}
	if _, err := a.invite(ctx, string(resp.RoomID), userID); err != nil {
		return "", err
	}
	return string(resp.RoomID), nil
}

// invite invites userID to a notices room, from the notices user.
func (a *AdminAPI) invite(ctx context.Context, roomID, userID string) (string, error) {
	return a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(a.noticesUserID()), Type: spec.MRoomMember, StateKey: &userID,
		Content: json.RawMessage(`{"membership":"invite"}`)})
}

// send inputs one local event and returns its ID.
func (a *AdminAPI) send(ctx context.Context, le *rsapi.LocalEvent) (string, error) {
	return a.sendTxn(ctx, le, nil)
}

// sendTxn is send with an optional client transaction ID (a repeat of one
// answers the first event's ID).
func (a *AdminAPI) sendTxn(ctx context.Context, le *rsapi.LocalEvent, txn *rsapi.TransactionID) (string, error) {
	resp, err := a.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: []rsapi.InputRoomEvent{{Kind: rsapi.KindNew, Local: le, TransactionID: txn}}})
	if err != nil {
		return "", err
	}
	if len(resp.Results) != 1 {
		return "", errors.New("roomserver returned no result")
	}
	if r := resp.Results[0]; r.Err != nil {
		return "", r.Err
	}
	return string(resp.Results[0].EventID), nil
}

// createRoom inputs a new room's first events (the admin API's own rooms:
// server notices, the room users move to when one is deleted) and fails
// with the first event's error.
func (a *AdminAPI) createRoom(ctx context.Context, events []rsapi.InputRoomEvent) (*rsapi.InputRoomEventsResponse, error) {
	resp, err := a.rooms.InputRoomEvents(ctx, &rsapi.InputRoomEventsRequest{Events: events})
	if err != nil {
		return nil, err
	}
	for _, r := range resp.Results {
		if r.Err != nil {
			return nil, r.Err
		}
	}
	return resp, nil
}
