package keyserver

import (
	"encoding/json"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/uia"
	"github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// POST /keys/upload
func (k *routes) handleUpload(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		DeviceKeys   json.RawMessage            `json:"device_keys"`
		OneTimeKeys  map[string]json.RawMessage `json:"one_time_keys"`
		FallbackKeys map[string]json.RawMessage `json:"fallback_keys"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if len(body.DeviceKeys) > 0 && body.DeviceKeys[0] != '{' && string(body.DeviceKeys) != "null" {
		return httputil.BadJSON("device_keys must be an object")
	}
	if len(body.DeviceKeys) > 0 && string(body.DeviceKeys) != "null" {
		// The spec's DeviceKeys requires all of these.
		var required map[string]json.RawMessage
		if err := json.Unmarshal(body.DeviceKeys, &required); err != nil {
			return httputil.BadJSON("device_keys: %v", err)
		}
		for _, key := range []string{"user_id", "device_id", "algorithms", "keys", "signatures"} {
			if v, ok := required[key]; !ok || string(v) == "null" {
				return httputil.BadJSON("device_keys must have %s", key)
			}
		}
	}
	resp, err := k.UploadKeys(req.Context(), &api.UploadKeysRequest{UserID: dev.UserID, DeviceID: dev.ID,
		DeviceKeys: body.DeviceKeys, OneTimeKeys: body.OneTimeKeys, FallbackKeys: body.FallbackKeys})
	if err != nil {
		return k.apiError(err, "upload keys")
	}
	return httputil.OK(resp)
}

// POST /keys/query
func (k *routes) handleQuery(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		DeviceKeys map[string][]string `json:"device_keys"`
		Timeout    int64               `json:"timeout"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	resp, err := k.QueryKeys(req.Context(), &api.QueryKeysRequest{UserID: dev.UserID, DeviceKeys: body.DeviceKeys, TimeoutMs: body.Timeout})
	if err != nil {
		return k.apiError(err, "query keys")
	}
	return httputil.OK(resp)
}

// POST /keys/claim
func (k *routes) handleClaim(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		OneTimeKeys map[string]map[string]string `json:"one_time_keys"`
		Timeout     int64                        `json:"timeout"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	resp, err := k.ClaimKeys(req.Context(), &api.ClaimKeysRequest{OneTimeKeys: body.OneTimeKeys, TimeoutMs: body.Timeout})
	if err != nil {
		return k.apiError(err, "claim keys")
	}
	return httputil.OK(resp)
}

// POST /keys/device_signing/upload. UIA is skipped, as the spec allows,
// when the user has no master key yet or the request changes nothing.
func (k *routes) handleDeviceSigningUpload(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		api.CrossSigningKeys
		Auth *uia.Auth `json:"auth"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	ctx := req.Context()
	stored, err := k.CrossSigningKeys(ctx, matrixid.UserID(dev.UserID))
	if err != nil {
		return k.apiError(err, "cross-signing keys")
	}
	session := ""
	if stored.Master != nil && !unchanged(&body.CrossSigningKeys, stored) && dev.AppserviceID == "" {
		var r *httputil.JSONResponse
		if session, r = k.uia.Authenticate(req, body.Auth, uia.PasswordOp("device_signing", dev.UserID)); r != nil {
			return *r
		}
	}
	if err := k.UploadCrossSigningKeys(ctx, matrixid.UserID(dev.UserID), &body.CrossSigningKeys); err != nil {
		return k.apiError(err, "upload cross-signing keys")
	}
	k.uia.Finish(session)
	return httputil.Empty()
}

// unchanged reports whether every key given equals the stored one.
func unchanged(given, stored *api.CrossSigningKeys) bool {
	pairs := [][2]json.RawMessage{{given.Master, stored.Master}, {given.SelfSigning, stored.SelfSigning}, {given.UserSigning, stored.UserSigning}}
	for _, p := range pairs {
		if len(p[0]) == 0 || string(p[0]) == "null" {
			continue
		}
		if p[1] == nil || !sameKey(p[0], p[1]) {
			return false
		}
	}
	return true
}

// POST /keys/signatures/upload
func (k *routes) handleSignaturesUpload(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body map[string]map[string]json.RawMessage
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	for _, byKey := range body {
		for _, obj := range byKey {
			if len(obj) == 0 || obj[0] != '{' {
				return httputil.BadJSON("Signed keys must be objects")
			}
		}
	}
	failures, err := k.UploadSignatures(req.Context(), matrixid.UserID(dev.UserID), body)
	if err != nil {
		return k.apiError(err, "upload signatures")
	}
	return httputil.OK(map[string]any{"failures": failures})
}
