package userapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// QueryAccessToken implements api.UserAPI. Resolved tokens are served from
// memory; the database is read on a miss.
func (u *UserAPI) QueryAccessToken(ctx context.Context, token, ip, userAgent string) (*api.Device, error) {
	hash := hashToken(token)
	u.tokens.catchUp() // other userapi processes' revocations first
	e := u.tokens.get(hash)
	if e == nil {
		var err error
		if e, err = u.loadToken(ctx, hash); err != nil {
			return nil, err
		}
	}
	now := time.Now().UnixMilli()
	if e.expiresTS != 0 && now >= e.expiresTS {
		return nil, api.ErrTokenExpired
	}
	// Record activity at most every 10s per token.
	if seen := e.seenAt.Load(); now-seen > 10_000 && e.seenAt.CompareAndSwap(seen, now) {
		u.lastSeen.record(storage.LastSeen{
			Localpart: e.localpart, DeviceID: e.device.ID, TS: now,
			IP: ip, UserAgent: userAgent,
		})
	}
	dev := e.device // a copy: handlers cannot alter the cached one
	return &dev, nil
}

// AuthenticateToken implements httputil.Authenticator.
func (u *UserAPI) AuthenticateToken(req *http.Request, token string) (*api.Device, *httputil.MatrixError) {
	return TokenAuthenticator{API: u}.AuthenticateToken(req, token)
}

// TokenAuthenticator adapts any api.UserAPI (local, or remote over RPC in
// a polylith) to httputil.Authenticator.
type TokenAuthenticator struct{ API api.UserAPI }

// AuthenticateToken implements httputil.Authenticator.
func (a TokenAuthenticator) AuthenticateToken(req *http.Request, token string) (*api.Device, *httputil.MatrixError) {
	dev, err := a.API.QueryAccessToken(req.Context(), token, httputil.ClientIP(req), req.UserAgent())
	switch {
	case err == nil:
		return dev, nil
	case errors.Is(err, api.ErrTokenExpired):
		return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN_TOKEN", Err: "Access token has expired", SoftLogout: true}
	case errors.Is(err, api.ErrUnknownToken):
		return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN_TOKEN", Err: "Unknown access token"}
	default:
		return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN", Err: "Could not check the access token; try again"}
	}
}

func (u *UserAPI) loadToken(ctx context.Context, hash string) (*cachedToken, error) {
	gen := u.tokens.generation()
	info, err := u.db.LookupAccessToken(ctx, hash)
	if err == istorage.ErrNotFound {
		return nil, api.ErrUnknownToken
	}
	if err != nil {
		u.base.Log.Error("looking up access token", "error", err)
		return nil, fmt.Errorf("look up access token: %w", err)
	}
	if info.PrevRefreshID != 0 {
		// First use of a refreshed token: the refresh token it replaced
		// is now spent.
		if err := u.db.RevokePrevRefresh(ctx, info.RefreshID); err != nil {
			u.base.Log.Warn("revoking used refresh token", "error", err)
		}
	}
	e := &cachedToken{
		device: api.Device{
			UserID: u.userID(info.Localpart), ID: info.DeviceID, DisplayName: info.DisplayName,
			IsAdmin: info.IsAdmin, IsGuest: info.IsGuest, ShadowBanned: info.ShadowBanned,
		},
		localpart: info.Localpart,
		expiresTS: info.ExpiresTS,
		loadedAt:  time.Now(),
	}
	if info.HasRateLimit {
		e.device.RateLimit = &api.RateLimitOverride{MessagesPerSecond: info.MessagesPerSecond, BurstCount: info.BurstCount}
	}
	u.tokens.put(hash, e, gen)
	return e, nil
}
