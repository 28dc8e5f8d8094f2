package keyserver

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/uia"
	"github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// routes serves the keyserver's Client-Server routes through the
// KeyserverAPI, so that a process without the keyserver (a polylith's
// HTTP edge) serves them over RPC just as the keyserver itself does.
type routes struct {
	api.KeyserverAPI
	uia *uia.Authenticator
	log *slog.Logger
}

// RegisterRoutes serves /keys/* and /room_keys/* on base.Client through
// keys. New does it for a local keyserver.
func RegisterRoutes(base *setup.Base, keys api.KeyserverAPI, users uapi.UserAPI) {
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "keyserver")
	k := &routes{KeyserverAPI: keys, log: log, uia: uia.New(uia.Config{
		ServerName: base.Cfg.ServerName, Passwords: users, Rejected: uapi.IsRejectedCredentials, Log: log,
		RateLimit: httputil.NewRateLimiter(base.Cfg.RateLimits, base.Cfg.RateLimits.Login).Check,
	})}
	r := base.Client
	r.HandleClientAuthed("POST /keys/upload", k.handleUpload)
	r.HandleClientAuthed("POST /keys/query", k.handleQuery)
	r.HandleClientAuthed("POST /keys/claim", k.handleClaim)
	r.HandleClientAuthed("POST /keys/device_signing/upload", k.handleDeviceSigningUpload)
	r.HandleClientAuthed("POST /keys/signatures/upload", k.handleSignaturesUpload)

	r.HandleClientAuthed("POST /room_keys/version", k.handleCreateBackup)
	r.HandleClientAuthed("GET /room_keys/version", k.handleGetBackup)
	r.HandleClientAuthed("GET /room_keys/version/{version}", k.handleGetBackup)
	r.HandleClientAuthed("PUT /room_keys/version/{version}", k.handleUpdateBackup)
	r.HandleClientAuthed("DELETE /room_keys/version/{version}", k.handleDeleteBackup)
	for _, path := range []string{"/room_keys/keys", "/room_keys/keys/{roomId}", "/room_keys/keys/{roomId}/{sessionId}"} {
		r.HandleClientAuthed("GET "+path, k.handleGetRoomKeys)
		r.HandleClientAuthed("PUT "+path, k.handlePutRoomKeys)
		r.HandleClientAuthed("DELETE "+path, k.handleDeleteRoomKeys)
	}
}

// apiError answers an error from the KeyserverAPI: the known ones as
// their Matrix errors, anything else as a logged 500.
func (k *routes) apiError(err error, what string) httputil.JSONResponse {
	switch {
	case errors.Is(err, api.ErrInvalidKeys):
		return httputil.InvalidParam("%v", err)
	case errors.Is(err, api.ErrInvalidSignature):
		return httputil.Error(http.StatusBadRequest, "M_INVALID_SIGNATURE", "%v", err)
	case errors.Is(err, api.ErrMissingMasterKey):
		return httputil.MissingParam("No master signing key is available")
	case errors.Is(err, api.ErrKeyInUse):
		return httputil.Forbidden("%v", err)
	case errors.Is(err, api.ErrNoBackup):
		return httputil.NotFound("Unknown backup version")
	case errors.Is(err, api.ErrNotLocal):
		return httputil.Forbidden("Not a local user")
	}
	k.log.Error(what, "error", err)
	return httputil.InternalError()
}
