package keyserver

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

type backupVersionBody struct {
	Algorithm string          `json:"algorithm"`
	AuthData  json.RawMessage `json:"auth_data"`
	Version   string          `json:"version"`
}

func (b *backupVersionBody) check() *httputil.JSONResponse {
	if b.Algorithm == "" {
		r := httputil.MissingParam("algorithm is required")
		return &r
	}
	if len(b.AuthData) == 0 || b.AuthData[0] != '{' {
		r := httputil.BadJSON("auth_data must be an object")
		return &r
	}
	return nil
}

// POST /room_keys/version
func (k *routes) handleCreateBackup(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if dev.IsGuest {
		return httputil.GuestForbidden()
	}
	var body backupVersionBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if r := body.check(); r != nil {
		return *r
	}
	v, err := k.CreateBackupVersion(req.Context(), matrixid.UserID(dev.UserID), &api.BackupVersionInfo{Algorithm: body.Algorithm, AuthData: body.AuthData})
	if err != nil {
		return k.apiError(err, "create backup version")
	}
	return httputil.OK(map[string]string{"version": v})
}

// GET /room_keys/version[/{version}]
func (k *routes) handleGetBackup(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	info, err := k.BackupVersion(req.Context(), matrixid.UserID(dev.UserID), req.PathValue("version"))
	if errors.Is(err, api.ErrNoBackup) {
		return httputil.NotFound("No current backup version")
	}
	if err != nil {
		return k.apiError(err, "get backup version")
	}
	return httputil.OK(info)
}

// PUT /room_keys/version/{version}
func (k *routes) handleUpdateBackup(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body backupVersionBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if r := body.check(); r != nil {
		return *r
	}
	version := req.PathValue("version")
	if body.Version != "" && body.Version != version {
		return httputil.InvalidParam("version in body does not match the path")
	}
	err := k.UpdateBackupVersion(req.Context(), matrixid.UserID(dev.UserID), version, &api.BackupVersionInfo{Algorithm: body.Algorithm, AuthData: body.AuthData})
	if err != nil {
		return k.apiError(err, "update backup version")
	}
	return httputil.Empty()
}

// DELETE /room_keys/version/{version}
func (k *routes) handleDeleteBackup(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if err := k.DeleteBackupVersion(req.Context(), matrixid.UserID(dev.UserID), req.PathValue("version")); err != nil {
		return k.apiError(err, "delete backup version")
	}
	return httputil.Empty()
}

// roomKeysPath reads {roomId}, {sessionId} and the required ?version.
func roomKeysPath(req *http.Request) (version, roomID, sessionID string, errResp *httputil.JSONResponse) {
	version = req.URL.Query().Get("version")
	if version == "" {
		r := httputil.MissingParam("The version query parameter is required")
		return "", "", "", &r
	}
	return version, req.PathValue("roomId"), req.PathValue("sessionId"), nil
}

// GET /room_keys/keys[/{roomId}[/{sessionId}]]
func (k *routes) handleGetRoomKeys(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	version, roomID, sessionID, r := roomKeysPath(req)
	if r != nil {
		return *r
	}
	keys, err := k.RoomKeys(req.Context(), matrixid.UserID(dev.UserID), version, matrixid.RoomID(roomID), sessionID)
	if err != nil {
		if errors.Is(err, api.ErrNoBackup) && sessionID != "" {
			return httputil.NotFound("No such session in the backup")
		}
		return k.apiError(err, "get room keys")
	}
	switch {
	case sessionID != "":
		return httputil.OK(keys[roomID][sessionID])
	case roomID != "":
		return httputil.OK(roomSessions(keys[roomID]))
	}
	rooms := map[string]any{}
	for id, sessions := range keys {
		rooms[id] = roomSessions(sessions)
	}
	return httputil.OK(map[string]any{"rooms": rooms})
}

func roomSessions(s map[string]*api.KeyBackupData) map[string]any {
	if s == nil {
		s = map[string]*api.KeyBackupData{}
	}
	return map[string]any{"sessions": s}
}

// PUT /room_keys/keys[/{roomId}[/{sessionId}]]
func (k *routes) handlePutRoomKeys(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	version, roomID, sessionID, r := roomKeysPath(req)
	if r != nil {
		return *r
	}
	type sessions struct {
		Sessions map[string]*api.KeyBackupData `json:"sessions"`
	}
	rooms := map[string]map[string]*api.KeyBackupData{}
	switch {
	case sessionID != "":
		var body api.KeyBackupData
		if r := httputil.DecodeJSON(req, &body); r != nil {
			return *r
		}
		rooms[roomID] = map[string]*api.KeyBackupData{sessionID: &body}
	case roomID != "":
		var body sessions
		if r := httputil.DecodeJSON(req, &body); r != nil {
			return *r
		}
		rooms[roomID] = body.Sessions
	default:
		var body struct {
			Rooms map[string]sessions `json:"rooms"`
		}
		if r := httputil.DecodeJSON(req, &body); r != nil {
			return *r
		}
		for id, s := range body.Rooms {
			rooms[id] = s.Sessions
		}
	}
	for _, ss := range rooms {
		for _, d := range ss {
			if d != nil && (len(d.SessionData) == 0 || d.SessionData[0] != '{') {
				return httputil.BadJSON("session_data must be an object")
			}
		}
	}
	count, err := k.PutRoomKeys(req.Context(), matrixid.UserID(dev.UserID), version, rooms)
	if errors.Is(err, api.ErrWrongBackupVersion) {
		cur, _ := k.BackupVersion(req.Context(), matrixid.UserID(dev.UserID), "")
		current := ""
		if cur != nil {
			current = cur.Version
		}
		return httputil.JSONResponse{Code: http.StatusForbidden, JSON: &httputil.MatrixError{ErrCode: "M_WRONG_ROOM_KEYS_VERSION",
			Err: "Wrong backup version", Extra: map[string]any{"current_version": current}}}
	}
	if err != nil {
		return k.apiError(err, "put room keys")
	}
	return httputil.OK(count)
}

// DELETE /room_keys/keys[/{roomId}[/{sessionId}]]
func (k *routes) handleDeleteRoomKeys(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	version, roomID, sessionID, r := roomKeysPath(req)
	if r != nil {
		return *r
	}
	count, err := k.DeleteRoomKeys(req.Context(), matrixid.UserID(dev.UserID), version, matrixid.RoomID(roomID), sessionID)
	if err != nil {
		return k.apiError(err, "delete room keys")
	}
	return httputil.OK(count)
}
