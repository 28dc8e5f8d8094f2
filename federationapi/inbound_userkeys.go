package federationapi

import (
	"encoding/json"
	"errors"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	ksapi "github.com/axon-hs/axon/keyserver/api"
)

// maxKeyUsers bounds the users one key query or claim may name.
const maxKeyUsers = 1000

// userDevices lists a local user's devices with their keys.
func (f *FederationAPI) userDevices(req *FedRequest) httputil.JSONResponse {
	userID := req.PathValue("userID")
	if _, err := spec.NewUserID(userID, true); err != nil {
		return httputil.InvalidParam("Invalid user ID")
	}
	if domainOf(userID) != f.id.ServerName {
		return httputil.InvalidParam("User %s is not on this server", userID)
	}
	if acct, err := f.users.QueryAccount(req.Context(), matrixid.UserID(userID)); err != nil || acct == nil {
		return httputil.NotFound("Unknown user %s", userID)
	}
	if f.keyAPI == nil {
		return httputil.OK(&ksapi.UserDevices{UserID: userID, Devices: []ksapi.DeviceKeys{}})
	}
	devs, err := f.keyAPI.LocalUserDevices(req.Context(), matrixid.UserID(userID))
	if err != nil {
		if errors.Is(err, ksapi.ErrNotLocal) {
			return httputil.InvalidParam("User %s is not on this server", userID)
		}
		return f.internal("user devices", err)
	}
	if devs.Devices == nil {
		devs.Devices = []ksapi.DeviceKeys{}
	}
	return httputil.OK(devs)
}

func (f *FederationAPI) userKeysQuery(req *FedRequest) httputil.JSONResponse {
	var body struct {
		DeviceKeys map[string][]string `json:"device_keys"`
	}
	if r := f.decodeKeyBody(req, &body); r != nil {
		return *r
	}
	if body.DeviceKeys == nil {
		return httputil.BadJSON("device_keys is required")
	}
	if len(body.DeviceKeys) > maxKeyUsers {
		return httputil.BadJSON("Too many users in one query")
	}
	local := map[string][]string{}
	for u, devs := range body.DeviceKeys {
		if f.isLocalUser(u) {
			local[u] = devs
		}
	}
	resp := &ksapi.QueryKeysResponse{DeviceKeys: map[string]map[string]json.RawMessage{},
		MasterKeys: map[string]json.RawMessage{}, SelfSigningKeys: map[string]json.RawMessage{}}
	if len(local) > 0 && f.keyAPI != nil {
		var err error
		// No requesting user: user-signing keys are never served to others.
		if resp, err = f.keyAPI.QueryKeys(req.Context(), &ksapi.QueryKeysRequest{DeviceKeys: local}); err != nil {
			return f.internal("query keys", err)
		}
	}
	return httputil.OK(map[string]any{"device_keys": nonNil(resp.DeviceKeys),
		"master_keys": nonNil(resp.MasterKeys), "self_signing_keys": nonNil(resp.SelfSigningKeys)})
}

func (f *FederationAPI) userKeysClaim(req *FedRequest) httputil.JSONResponse {
	var body struct {
		OneTimeKeys map[string]map[string]string `json:"one_time_keys"`
	}
	if r := f.decodeKeyBody(req, &body); r != nil {
		return *r
	}
	if body.OneTimeKeys == nil {
		return httputil.BadJSON("one_time_keys is required")
	}
	if len(body.OneTimeKeys) > maxKeyUsers {
		return httputil.BadJSON("Too many users in one claim")
	}
	local := map[string]map[string]string{}
	for u, devs := range body.OneTimeKeys {
		if f.isLocalUser(u) {
			local[u] = devs
		}
	}
	otks := map[string]map[string]map[string]json.RawMessage{}
	if len(local) > 0 && f.keyAPI != nil {
		resp, err := f.keyAPI.ClaimKeys(req.Context(), &ksapi.ClaimKeysRequest{OneTimeKeys: local})
		if err != nil {
			return f.internal("claim keys", err)
		}
		otks = nonNil(resp.OneTimeKeys)
	}
	return httputil.OK(map[string]any{"one_time_keys": otks})
}

// decodeKeyBody decodes an authenticated request's JSON body.
func (f *FederationAPI) decodeKeyBody(req *FedRequest, v any) *httputil.JSONResponse {
	if len(req.Content) == 0 {
		r := httputil.NotJSON("Request body is not JSON")
		return &r
	}
	if err := json.Unmarshal(req.Content, v); err != nil {
		r := httputil.BadJSON("Invalid request body: %v", err)
		return &r
	}
	return nil
}

func (f *FederationAPI) isLocalUser(userID string) bool {
	_, err := spec.NewUserID(userID, true)
	return err == nil && domainOf(userID) == f.id.ServerName
}

func nonNil[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}
