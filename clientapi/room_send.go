package clientapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// maxEventContent caps a request body for an event: the whole event must
// fit in 64 KiB, so a bigger body can only fail.
const maxEventContent = 65536

func mustMarshal(v any) json.RawMessage {
	data, _ := json.Marshal(v)
	return data
}

// readContent reads an event content body: a JSON object of at most 64 KiB.
func readContent(req *http.Request) (json.RawMessage, *httputil.JSONResponse) {
	data, r := httputil.ReadBody(req, maxEventContent)
	if r != nil {
		return nil, r
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return []byte("{}"), nil
	}
	if r := httputil.CheckJSON(data); r != nil {
		return nil, r
	}
	// Valid JSON: an object if it opens with a brace (the content is kept
	// as sent, so it is not decoded here).
	if trimmed[0] != '{' {
		r := httputil.BadJSON("Event content must be a JSON object")
		return nil, &r
	}
	return data, nil
}

func (h *roomRoutes) sendMessage(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	if r := h.checkMsgLimit(req, dev); r != nil {
		return *r
	}
	roomID, evType, txnID := req.PathValue("roomId"), req.PathValue("eventType"), req.PathValue("txnId")
	if evType == "" || txnID == "" {
		return httputil.InvalidParam("Missing event type or transaction ID")
	}
	content, r := readContent(req)
	if r != nil {
		return *r
	}
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	ts, r := massagedTS(req, dev)
	if r != nil {
		return *r
	}
	if r := shadowBanned(dev, true); r != nil {
		return *r
	}
	id, r := h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(dev.UserID), Type: matrixid.EventType(evType), Content: content, OriginServerTS: ts},
		&rsapi.TransactionID{DeviceID: dev.ID, TransactionID: txnID}, unknownRoom(roomID))
	if r != nil {
		return *r
	}
	return httputil.OK(map[string]string{"event_id": id})
}

func (h *roomRoutes) putState(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	if r := h.checkMsgLimit(req, dev); r != nil {
		return *r
	}
	roomID, evType, stateKey := req.PathValue("roomId"), req.PathValue("eventType"), req.PathValue("stateKey")
	if evType == "" {
		return httputil.InvalidParam("Missing event type")
	}
	content, r := readContent(req)
	if r != nil {
		return *r
	}
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	if evType == spec.MRoomCanonicalAlias {
		if r := h.checkCanonicalAlias(req, roomID, content); r != nil {
			return *r
		}
	}
	cur, ev, err := h.stateContent(ctx, roomID, evType, stateKey)
	if evType == spec.MRoomMember && stateKey == dev.UserID && err == nil && ev != nil {
		content = dropMootAuthoriser(cur, content)
	}
	// Setting state to what it already is returns the existing event
	// instead of growing the DAG (clients re-send state freely).
	if err == nil && ev != nil && string(ev.SenderID()) == dev.UserID && jsonEqual(cur, content) {
		return httputil.OK(map[string]string{"event_id": ev.EventID()})
	}
	sk := stateKey
	ts, r := massagedTS(req, dev)
	if r != nil {
		return *r
	}
	if r := shadowBanned(dev, true); r != nil {
		return *r
	}
	id, r := h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(dev.UserID), Type: matrixid.EventType(evType), StateKey: &sk, Content: content, OriginServerTS: ts}, nil, unknownRoom(roomID))
	if r != nil {
		return *r
	}
	return httputil.OK(map[string]string{"event_id": id})
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// checkCanonicalAlias: every alias named must be valid (400
// M_INVALID_PARAM otherwise), exist and point here (400 M_BAD_ALIAS
// otherwise), per the spec.
func (h *roomRoutes) checkCanonicalAlias(req *http.Request, roomID string, content json.RawMessage) *httputil.JSONResponse {
	aliases, msg := matrixrules.CheckCanonicalAliasShape(content)
	if msg != "" {
		r := httputil.BadJSON("%s", msg)
		return &r
	}
	for _, a := range aliases {
		if !matrixrules.ValidRoomAlias(a) {
			r := httputil.InvalidParam("%q is not a valid room alias", a)
			return &r
		}
	}
	for _, a := range aliases {
		target, _, err := h.rs.QueryAlias(req.Context(), a)
		if err != nil {
			r := h.rsError(err, "alias")
			return &r
		}
		if target != matrixid.RoomID(roomID) {
			r := httputil.Error(http.StatusBadRequest, "M_BAD_ALIAS", "Alias %s does not point to this room", a)
			return &r
		}
	}
	return nil
}

type redactBody struct {
	Reason string `json:"reason,omitempty"`
}

func (h *roomRoutes) redact(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	if r := h.checkMsgLimit(req, dev); r != nil {
		return *r
	}
	roomID, eventID, txnID := req.PathValue("roomId"), req.PathValue("eventId"), req.PathValue("txnId")
	var body redactBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if !strings.HasPrefix(eventID, "$") {
		return httputil.InvalidParam("Invalid event ID")
	}
	if r := checkRoomID(roomID); r != nil {
		return *r
	}
	content := map[string]any{}
	if body.Reason != "" {
		content["reason"] = body.Reason
	}
	if r := shadowBanned(dev, true); r != nil {
		return *r
	}
	id, r := h.sendLocal(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(dev.UserID), Type: spec.MRoomRedaction, Redacts: matrixid.EventID(eventID), Content: mustMarshal(content)},
		&rsapi.TransactionID{DeviceID: dev.ID, TransactionID: "redact:" + txnID}, unknownRoom(roomID))
	if r != nil {
		return *r
	}
	return httputil.OK(map[string]string{"event_id": id})
}

// dropMootAuthoriser removes join_authorised_via_users_server from a
// user's own join when they are already joined or invited: the field is
// then moot, and other servers would demand the named server's
// signature (refusing the event, and every later one citing it).
func dropMootAuthoriser(current, content json.RawMessage) json.RawMessage {
	if gjson.GetBytes(content, "membership").Str != spec.Join || !gjson.GetBytes(content, "join_authorised_via_users_server").Exists() ||
		matrixrules.NeedsRestrictedAuthoriser(spec.Restricted, gjson.GetBytes(current, "membership").Str) {
		return content
	}
	out, err := sjson.DeleteBytes(content, "join_authorised_via_users_server")
	if err != nil {
		return content
	}
	return out
}
