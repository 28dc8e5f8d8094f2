package clientapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// serverManagedAccountData are types with their own endpoints, which the
// spec forbids setting through the account data API.
var serverManagedAccountData = map[string]string{
	matrixrules.MFullyRead: "Cannot set m.fully_read through this API; use /rooms/{roomId}/read_markers",
	matrixrules.MPushRules: "Cannot set m.push_rules through this API; use /pushrules",
}

// accountDataTarget checks the {userId}, {roomId} and {type} of an
// account data path and returns the room ("" for global) and type.
func (a *accountRoutes) accountDataTarget(req *http.Request, dev *uapi.Device) (roomID, dataType string, errResp *httputil.JSONResponse) {
	if roomID, errResp = a.ownRoomTarget(req, dev); errResp != nil {
		return "", "", errResp
	}
	dataType = req.PathValue("type")
	if dataType == "" || len(dataType) > 255 {
		r := httputil.InvalidParam("The account data type must be 1-255 bytes")
		return "", "", &r
	}
	return roomID, dataType, nil
}

// ownRoomTarget checks that {userId} is the caller (not a guest) and
// {roomId}, when the path has one, is a room ID.
func (a *accountRoutes) ownRoomTarget(req *http.Request, dev *uapi.Device) (roomID string, errResp *httputil.JSONResponse) {
	if req.PathValue("userId") != dev.UserID {
		r := httputil.Forbidden("You may only access your own account data")
		return "", &r
	}
	if dev.IsGuest {
		r := httputil.GuestForbidden()
		return "", &r
	}
	roomID = req.PathValue("roomId")
	if strings.Contains(req.Pattern, "{roomId}") {
		if _, server, ok := strings.Cut(roomID, ":"); !strings.HasPrefix(roomID, "!") || !ok || server == "" {
			r := httputil.InvalidParam("%q is not a room ID", roomID)
			return "", &r
		}
	}
	return roomID, nil
}

// getAccountData: GET /user/{userId}[/rooms/{roomId}]/account_data/{type}.
func (a *accountRoutes) getAccountData(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID, dataType, errResp := a.accountDataTarget(req, dev)
	if errResp != nil {
		return *errResp
	}
	content, err := a.users.AccountData(req.Context(), matrixid.UserID(dev.UserID), matrixid.RoomID(roomID), dataType)
	if err != nil {
		return a.userError(err, "get account data")
	}
	if content == nil {
		return httputil.NotFound("No account data of type %s", dataType)
	}
	return httputil.OK(content)
}

// setAccountData: PUT /user/{userId}[/rooms/{roomId}]/account_data/{type}.
func (a *accountRoutes) setAccountData(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID, dataType, errResp := a.accountDataTarget(req, dev)
	if errResp != nil {
		return *errResp
	}
	if msg, ok := serverManagedAccountData[dataType]; ok {
		return httputil.Error(http.StatusMethodNotAllowed, "M_BAD_JSON", "%s", msg)
	}
	data, errResp := httputil.ReadBody(req, httputil.BodyLimit(req))
	if errResp != nil {
		return *errResp
	}
	var obj map[string]json.RawMessage
	if errResp := httputil.UnmarshalJSON(data, &obj); errResp != nil {
		return *errResp
	}
	if obj == nil { // the body was null
		return httputil.BadJSON("The body must be a JSON object")
	}
	var content bytes.Buffer
	if err := json.Compact(&content, data); err != nil || content.Len() == 0 {
		content.Reset()
		content.WriteString("{}") // an empty body decodes as {}
	}
	if err := a.users.SetAccountData(req.Context(), matrixid.UserID(dev.UserID), matrixid.RoomID(roomID), dataType, content.Bytes()); err != nil {
		return a.userError(err, "set account data")
	}
	return httputil.Empty()
}
