package adminapi

import (
	"log/slog"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// AdminAPI serves /_synapse/admin.
type AdminAPI struct {
	base       *setup.Base
	log        *slog.Logger
	serverName string
	users      uapi.UserAPI
	rooms      rsapi.RoomserverAPI
	version    string
}

// New registers the admin routes on base.Client.
func New(base *setup.Base, deps Deps) *AdminAPI {
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	a := &AdminAPI{
		base: base, log: log.With("component", "adminapi"), serverName: base.Cfg.ServerName,
		users: deps.Users, rooms: deps.Rooms, version: deps.Version,
	}
	if base.Client != nil {
		a.registerRoutes()
	}
	return a
}

// adminHandler answers a request from a server admin.
type adminHandler func(req *http.Request, admin *httputil.Device) httputil.JSONResponse

// requireAdmin lets only server admins through (403 M_FORBIDDEN).
func requireAdmin(h adminHandler) httputil.AuthedHandler {
	return func(req *http.Request, dev *httputil.Device) httputil.JSONResponse {
		if !dev.IsAdmin {
			return httputil.Forbidden("You are not a server admin")
		}
		return h(req, dev)
	}
}
