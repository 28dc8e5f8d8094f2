package keyserver

import (
	"log/slog"

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
func RegisterRoutes(base *setup.Base, keys api.KeyserverAPI, users Users) {
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "keyserver")
	k := &routes{KeyserverAPI: keys, log: log, uia: uia.New(uia.Config{
		ServerName: base.Cfg.ServerName, Passwords: users, Rejected: uapi.IsRejectedCredentials, Log: log,
		RateLimit: httputil.NewRateLimiter(base.Cfg.RateLimits, base.Cfg.RateLimits.Login).Check,
		Store:     base.UIASessions(),
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
