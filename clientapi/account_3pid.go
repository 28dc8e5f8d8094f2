package clientapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Third-party identifiers (spec "Adding Account Administrative Contact
// Information" and the requestToken endpoints). Axon sends no email or
// SMS and talks to no identity server, so it accepts no third-party
// identifier: accounts have none (GET /account/3pid is empty, the
// m.3pid_changes capability is off), validation requests are refused
// with M_THREEPID_DENIED (the spec's answer for a server that does not
// allow them), no validation session exists to add or bind, and removing
// one succeeds trivially (there is nothing to remove, nothing to unbind).

func threepidDenied() httputil.JSONResponse {
	return httputil.Error(http.StatusForbidden, "M_THREEPID_DENIED", "This server does not accept third-party identifiers (email addresses, phone numbers)")
}

// threepidRequestToken: POST {register,account/password,account/3pid}/{email,msisdn}/requestToken.
func (a *accountRoutes) threepidRequestToken(req *http.Request) httputil.JSONResponse {
	var body struct {
		ClientSecret string `json:"client_secret"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.ClientSecret == "" {
		return httputil.MissingParam("client_secret is required")
	}
	return threepidDenied()
}

// listThreepids: GET /account/3pid.
func (a *accountRoutes) listThreepids(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
	return httputil.OK(map[string]any{"threepids": []any{}})
}

// addThreepid: POST /account/3pid/add and /account/3pid/bind. No
// validation session (sid) is ever issued, so none can be completed.
func (a *accountRoutes) addThreepid(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
	var body struct {
		ClientSecret string `json:"client_secret"`
		SID          string `json:"sid"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.ClientSecret == "" || body.SID == "" {
		return httputil.MissingParam("client_secret and sid are required")
	}
	return threepidDenied()
}

// removeThreepid: POST /account/3pid/delete and /account/3pid/unbind.
// The identifier is not associated with the account afterwards (it never
// was), and no identity server was asked.
func (a *accountRoutes) removeThreepid(req *http.Request, _ *uapi.Device) httputil.JSONResponse {
	var body struct {
		Medium  string `json:"medium"`
		Address string `json:"address"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Medium == "" || body.Address == "" {
		return httputil.MissingParam("medium and address are required")
	}
	return httputil.OK(map[string]string{"id_server_unbind_result": "no-support"})
}
