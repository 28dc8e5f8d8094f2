package adminapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/axon-hs/axon/internal/httputil"
	mapi "github.com/axon-hs/axon/mediaapi/api"
)

// registerMediaRoutes adds the media administration routes (Synapse
// paths) to the admin route table.
func (a *AdminAPI) registerMediaRoutes(route func(string, adminHandler)) {
	route("GET /v1/users/{userId}/media", a.listUserMedia)
	route("DELETE /v1/users/{userId}/media", a.deleteUserMedia)
	route("GET /v1/media/{serverName}/{mediaId}", a.mediaInfo)
	route("DELETE /v1/media/{serverName}/{mediaId}", a.deleteOneMedia)
	route("POST /v1/media/delete", a.deleteOldMedia)
	route("POST /v1/purge_media_cache", a.purgeMediaCache)
	route("POST /v1/media/quarantine/{serverName}/{mediaId}", a.quarantineMedia)
	route("POST /v1/media/unquarantine/{serverName}/{mediaId}", a.unquarantineMedia)
	route("POST /v1/media/protect/{mediaId}", a.protectMedia(true))
	route("POST /v1/media/unprotect/{mediaId}", a.protectMedia(false))
	route("GET /v1/room/{roomId}/media", a.roomMedia)
	route("POST /v1/room/{roomId}/media/quarantine", a.quarantineRoomMedia)
	route("POST /v1/quarantine_media/{roomId}", a.quarantineRoomMedia) // the older path
	route("POST /v1/user/{userId}/media/quarantine", a.quarantineUserMedia)
}

// mediaFail answers mediaapi's errors; anything else as a.fail does.
func (a *AdminAPI) mediaFail(err error, action string) httputil.JSONResponse {
	switch {
	case errors.Is(err, mapi.ErrNotFound):
		return httputil.NotFound("Media not found")
	case errors.Is(err, mapi.ErrInvalidOrder):
		return httputil.InvalidParam("order_by is not a media field")
	}
	return a.fail(err, action)
}

// mediaAvailable answers 404 when this server runs without mediaapi.
func (a *AdminAPI) mediaAvailable() *httputil.JSONResponse {
	if a.media == nil {
		r := httputil.NotFound("Media administration is not available: mediaapi is not running")
		return &r
	}
	return nil
}

// pathMedia reads {serverName} and {mediaId}; local says the media must
// be this server's.
func (a *AdminAPI) pathMedia(req *http.Request, local bool) (origin, mediaID string, errResp *httputil.JSONResponse) {
	origin, mediaID = req.PathValue("serverName"), req.PathValue("mediaId")
	if origin == "" {
		origin = a.serverName
	}
	if !validMediaRef(origin, mediaID) {
		r := httputil.InvalidParam("Invalid server name or media ID")
		return "", "", &r
	}
	if local && origin != a.serverName {
		r := httputil.InvalidParam("Only local media can be changed here")
		return "", "", &r
	}
	return origin, mediaID, nil
}

// validMediaRef is mediaapi's rule for the parts of an mxc:// URI.
func validMediaRef(origin, mediaID string) bool {
	return mapi.ValidServerName(origin) && mapi.ValidMediaID(mediaID)
}

// timestampParam reads a required millisecond timestamp. Values before
// 1970-12 are refused: they are almost certainly seconds, and would
// delete nothing while looking like success.
func timestampParam(req *http.Request, name string) (int64, *httputil.JSONResponse) {
	s := req.URL.Query().Get(name)
	if s == "" {
		r := httputil.Error(http.StatusBadRequest, "M_MISSING_PARAM", "%s (milliseconds since the epoch) is required", name)
		return 0, &r
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		r := httputil.InvalidParam("%s must be a non-negative integer (milliseconds)", name)
		return 0, &r
	}
	if n < 30_000_000_000 {
		r := httputil.InvalidParam("%s is in 1970: give the time in milliseconds, not seconds", name)
		return 0, &r
	}
	return n, nil
}
