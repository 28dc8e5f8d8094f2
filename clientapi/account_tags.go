package clientapi

import (
	"encoding/json"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Room tags are the m.tag room account data ({"tags": {tag: {"order": n}}}),
// changed one tag at a time by the userapi so concurrent changes keep each other.

// maxTagBytes bounds a tag name; maxTagContent one tag's content.
const (
	maxTagBytes   = 255
	maxTagContent = 1024
)

// tagsTarget checks {userId} and {roomId} of a tags path (as for room
// account data) and returns the room and the tag ("" for GET).
func (a *accountRoutes) tagsTarget(req *http.Request, dev *uapi.Device) (roomID, tag string, errResp *httputil.JSONResponse) {
	if roomID, errResp = a.ownRoomTarget(req, dev); errResp != nil {
		return "", "", errResp
	}
	tag = req.PathValue("tag")
	if req.Method != http.MethodGet && (tag == "" || len(tag) > maxTagBytes) {
		r := httputil.InvalidParam("A tag must be 1-%d bytes", maxTagBytes)
		return "", "", &r
	}
	return roomID, tag, nil
}

// getTags: GET /user/{userId}/rooms/{roomId}/tags.
func (a *accountRoutes) getTags(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID, _, errResp := a.tagsTarget(req, dev)
	if errResp != nil {
		return *errResp
	}
	content, err := a.users.AccountData(req.Context(), matrixid.UserID(dev.UserID), matrixid.RoomID(roomID), "m.tag")
	if err != nil {
		return a.userError(err, "get tags")
	}
	var tags struct {
		Tags map[string]json.RawMessage `json:"tags"`
	}
	_ = json.Unmarshal(content, &tags) // unset: no tags
	if tags.Tags == nil {
		tags.Tags = map[string]json.RawMessage{}
	}
	return httputil.OK(tags)
}

// putTag: PUT /user/{userId}/rooms/{roomId}/tags/{tag}. The body is the
// tag's content; "order", when given, must be a number.
func (a *accountRoutes) putTag(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID, tag, errResp := a.tagsTarget(req, dev)
	if errResp != nil {
		return *errResp
	}
	data, errResp := httputil.ReadBody(req, maxTagContent)
	if errResp != nil {
		return *errResp
	}
	var content map[string]json.RawMessage
	if errResp := httputil.UnmarshalJSON(data, &content); errResp != nil {
		return *errResp
	}
	if content == nil {
		return httputil.BadJSON("The body must be a JSON object")
	}
	if order, ok := content["order"]; ok {
		var f float64
		if json.Unmarshal(order, &f) != nil {
			return httputil.BadJSON("order must be a number")
		}
	}
	compact, _ := json.Marshal(content)
	if err := a.users.SetRoomTag(req.Context(), matrixid.UserID(dev.UserID), matrixid.RoomID(roomID), tag, compact); err != nil {
		return a.userError(err, "set tag")
	}
	return httputil.Empty()
}

// deleteTag: DELETE /user/{userId}/rooms/{roomId}/tags/{tag}.
func (a *accountRoutes) deleteTag(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	roomID, tag, errResp := a.tagsTarget(req, dev)
	if errResp != nil {
		return *errResp
	}
	if err := a.users.SetRoomTag(req.Context(), matrixid.UserID(dev.UserID), matrixid.RoomID(roomID), tag, nil); err != nil {
		return a.userError(err, "delete tag")
	}
	return httputil.Empty()
}
