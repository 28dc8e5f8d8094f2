package adminapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Registration tokens: the spec allows 1-64 characters of [A-Za-z0-9._~-].
const maxTokenLen = 64

func validTokenString(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '~' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// listTokens: GET /_synapse/admin/v1/registration_tokens[?valid=true|false].
func (a *AdminAPI) listTokens(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	toks, err := a.users.RegistrationTokens(req.Context())
	if err != nil {
		return a.fail(err, "list registration tokens")
	}
	if req.URL.Query().Has("valid") {
		want, e := boolParam(req, "valid", true)
		if e != nil {
			return *e
		}
		now := time.Now().UnixMilli()
		kept := toks[:0]
		for _, t := range toks {
			if t.ValidAt(now) == want {
				kept = append(kept, t)
			}
		}
		toks = kept
	}
	return httputil.OK(map[string]any{"registration_tokens": nonNil(toks)})
}

// createToken: POST /_synapse/admin/v1/registration_tokens/new
// {token | length, uses_allowed, expiry_time}.
func (a *AdminAPI) createToken(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	var body struct {
		Token       *string `json:"token"`
		Length      *int    `json:"length"`
		UsesAllowed *int64  `json:"uses_allowed"`
		ExpiryTime  *int64  `json:"expiry_time"`
	}
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	t := uapi.RegistrationToken{UsesAllowed: body.UsesAllowed, ExpiryTime: body.ExpiryTime}
	if e := checkTokenLimits(t.UsesAllowed, t.ExpiryTime); e != nil {
		return *e
	}
	switch {
	case body.Token != nil:
		if !validTokenString(*body.Token) {
			return httputil.InvalidParam("token must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '~' and '-'")
		}
		t.Token = *body.Token
	default:
		n := 16
		if body.Length != nil {
			if *body.Length < 1 || *body.Length > maxTokenLen {
				return httputil.InvalidParam("length must be between 1 and %d", maxTokenLen)
			}
			n = *body.Length
		}
		t.Token = randomString(n)
	}
	created, err := a.users.CreateRegistrationToken(req.Context(), t)
	if err != nil {
		return a.fail(err, "create registration token")
	}
	return httputil.OK(created)
}

// checkTokenLimits: uses_allowed is not negative; expiry_time is not past.
func checkTokenLimits(uses, expiry *int64) *httputil.JSONResponse {
	if uses != nil && *uses < 0 {
		r := httputil.InvalidParam("uses_allowed must be a non-negative integer or null")
		return &r
	}
	if expiry != nil && *expiry < time.Now().UnixMilli() {
		r := httputil.InvalidParam("expiry_time must not be in the past")
		return &r
	}
	return nil
}

// pathToken reads and checks the {token} path segment.
func pathToken(req *http.Request) (string, *httputil.JSONResponse) {
	tok := req.PathValue("token")
	if !validTokenString(tok) {
		r := httputil.NotFound("No such registration token")
		return "", &r
	}
	return tok, nil
}

// getToken: GET /_synapse/admin/v1/registration_tokens/{token}.
func (a *AdminAPI) getToken(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	tok, e := pathToken(req)
	if e != nil {
		return *e
	}
	t, err := a.users.RegistrationToken(req.Context(), tok)
	if err != nil {
		return a.fail(err, "get registration token")
	}
	return httputil.OK(t)
}

// updateToken: PUT /_synapse/admin/v1/registration_tokens/{token}
// {uses_allowed, expiry_time}: a present null removes the limit.
func (a *AdminAPI) updateToken(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	tok, e := pathToken(req)
	if e != nil {
		return *e
	}
	var body map[string]json.RawMessage
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	var up uapi.RegistrationTokenUpdate
	var err error
	if raw, ok := body["uses_allowed"]; ok {
		up.SetUsesAllowed = true
		up.UsesAllowed, err = nullableInt(raw)
	}
	if raw, ok := body["expiry_time"]; ok && err == nil {
		up.SetExpiryTime = true
		up.ExpiryTime, err = nullableInt(raw)
	}
	if err != nil {
		return httputil.InvalidParam("uses_allowed and expiry_time must be integers or null")
	}
	if e := checkTokenLimits(up.UsesAllowed, up.ExpiryTime); e != nil {
		return *e
	}
	t, err := a.users.UpdateRegistrationToken(req.Context(), tok, up)
	if err != nil {
		return a.fail(err, "update registration token")
	}
	return httputil.OK(t)
}

func nullableInt(raw json.RawMessage) (*int64, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// deleteToken: DELETE /_synapse/admin/v1/registration_tokens/{token}.
func (a *AdminAPI) deleteToken(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	tok, e := pathToken(req)
	if e != nil {
		return *e
	}
	if err := a.users.DeleteRegistrationToken(req.Context(), tok); err != nil {
		return a.fail(err, "delete registration token")
	}
	return httputil.Empty()
}
