package adminapi

import (
	"encoding/json"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Shadow bans and per-user rate limits (the userapi stores them; the
// clientapi applies them to the user's requests).

// setShadowBan serves POST (ban) and DELETE (unban)
// /v1/users/{userId}/shadow_ban.
func (a *AdminAPI) setShadowBan(banned bool) adminHandler {
	return func(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
		acc, r := a.existingUser(req)
		if r != nil {
			return *r
		}
		if err := a.users.SetShadowBanned(req.Context(), matrixid.UserID(acc.UserID), banned); err != nil {
			return a.fail(err, "shadow ban")
		}
		return httputil.Empty()
	}
}

// getRateLimit serves GET /v1/users/{userId}/override_ratelimit: {} when
// the server's limit applies.
func (a *AdminAPI) getRateLimit(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	acc, r := a.existingUser(req)
	if r != nil {
		return *r
	}
	o, err := a.users.QueryRateLimitOverride(req.Context(), matrixid.UserID(acc.UserID))
	if err != nil {
		return a.fail(err, "rate limit override")
	}
	if o == nil {
		return httputil.Empty()
	}
	return httputil.OK(o)
}

// maxRateValue bounds messages_per_second and burst_count.
const maxRateValue = 1_000_000

// setRateLimit serves POST /v1/users/{userId}/override_ratelimit.
func (a *AdminAPI) setRateLimit(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	acc, r := a.existingUser(req)
	if r != nil {
		return *r
	}
	var body map[string]json.RawMessage
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	var o uapi.RateLimitOverride
	for name, dst := range map[string]*int64{"messages_per_second": &o.MessagesPerSecond, "burst_count": &o.BurstCount} {
		raw, ok := body[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if json.Unmarshal(raw, dst) != nil || *dst < 0 || *dst > maxRateValue {
			return httputil.InvalidParam("%s must be an integer from 0 to %d", name, maxRateValue)
		}
	}
	if err := a.users.SetRateLimitOverride(req.Context(), matrixid.UserID(acc.UserID), &o); err != nil {
		return a.fail(err, "set rate limit override")
	}
	return httputil.OK(o)
}

// deleteRateLimit serves DELETE /v1/users/{userId}/override_ratelimit.
func (a *AdminAPI) deleteRateLimit(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	acc, r := a.existingUser(req)
	if r != nil {
		return *r
	}
	if err := a.users.SetRateLimitOverride(req.Context(), matrixid.UserID(acc.UserID), nil); err != nil {
		return a.fail(err, "delete rate limit override")
	}
	return httputil.Empty()
}
