package userapi

import (
	"net/http"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

// AuthenticateToken implements httputil.Authenticator. Resolved tokens
// are served from memory; the database is read on a miss.
func (u *UserAPI) AuthenticateToken(req *http.Request, token string) (*api.Device, *httputil.MatrixError) {
	hash := hashToken(token)
	e := u.tokens.get(hash)
	if e == nil {
		var merr *httputil.MatrixError
		if e, merr = u.loadToken(req, hash); merr != nil {
			return nil, merr
		}
	}
	now := time.Now().UnixMilli()
	if e.expiresTS != 0 && now >= e.expiresTS {
		return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN_TOKEN", Err: "Access token has expired", SoftLogout: true}
	}
	// Record activity at most every 10s per token.
	if seen := e.seenAt.Load(); now-seen > 10_000 && e.seenAt.CompareAndSwap(seen, now) {
		u.lastSeen.record(storage.LastSeen{
			Localpart: e.localpart, DeviceID: e.device.ID, TS: now,
			IP: httputil.ClientIP(req), UserAgent: req.UserAgent(),
		})
	}
	dev := e.device // a copy: handlers cannot alter the cached one
	return &dev, nil
}

func (u *UserAPI) loadToken(req *http.Request, hash string) (*cachedToken, *httputil.MatrixError) {
	gen := u.tokens.generation()
	info, err := u.db.LookupAccessToken(req.Context(), hash)
	if err == storage.ErrNotFound {
		return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN_TOKEN", Err: "Unknown access token"}
	}
	if err != nil {
		u.base.Log.Error("looking up access token", "error", err)
		return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN", Err: "Could not check the access token; try again"}
	}
	if info.PrevRefreshID != 0 {
		// First use of a refreshed token: the refresh token it replaced
		// is now spent.
		if err := u.db.RevokePrevRefresh(req.Context(), info.RefreshID); err != nil {
			u.base.Log.Warn("revoking used refresh token", "error", err)
		}
	}
	e := &cachedToken{
		device: api.Device{
			UserID: u.userID(info.Localpart), ID: info.DeviceID, DisplayName: info.DisplayName,
			IsAdmin: info.IsAdmin, IsGuest: info.IsGuest,
		},
		localpart: info.Localpart,
		expiresTS: info.ExpiresTS,
		loadedAt:  time.Now(),
	}
	u.tokens.put(hash, e, gen)
	return e, nil
}
