package adminapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/axon-hs/axon/adminapi/storage"
	fedapi "github.com/axon-hs/axon/federationapi/api"
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
	fed        fedapi.FederationAPI
	reports    EventReports
	media      MediaAdmin
	version    string
	db         *storage.DB
	// noticeLocks serialise finding-or-creating a user's notices room.
	noticeLocks [16]sync.Mutex

	// Background jobs (room deletions) run under jobsCtx until Close.
	jobsCtx  context.Context
	stopJobs context.CancelFunc
	jobs     sync.WaitGroup
}

// New opens the adminapi database and registers the admin routes on
// base.Client.
func New(ctx context.Context, base *setup.Base, deps Deps) (*AdminAPI, error) {
	sdb, err := base.OpenDB(ctx, "adminapi", storage.Migrations)
	if err != nil {
		return nil, err
	}
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	a := &AdminAPI{
		base: base, log: log.With("component", "adminapi"), serverName: base.Cfg.ServerName,
		users: deps.Users, rooms: deps.Rooms, fed: deps.Federation, reports: deps.Reports, media: deps.Media, version: deps.Version, db: storage.New(sdb),
	}
	a.jobsCtx, a.stopJobs = context.WithCancel(context.Background())
	if base.Client != nil {
		a.registerRoutes()
	}
	if err := a.resumeRoomDeletes(ctx); err != nil {
		a.stopJobs()
		return nil, err
	}
	return a, nil
}

// Close stops background jobs (an interrupted room deletion resumes on
// the next start) and waits for them.
func (a *AdminAPI) Close() {
	a.stopJobs()
	a.jobs.Wait()
}

// adminHandler answers a request from a server admin.
type adminHandler func(req *http.Request, admin *httputil.Device) httputil.JSONResponse

// requireAdmin lets only server admins through (403 M_FORBIDDEN).
// requireSelfOrAdmin lets a user ask about themselves, and a server
// admin about anyone ({userId} in the path).
func requireSelfOrAdmin(h adminHandler) httputil.AuthedHandler {
	return func(req *http.Request, dev *httputil.Device) httputil.JSONResponse {
		if !dev.IsAdmin && req.PathValue("userId") != dev.UserID {
			return httputil.Forbidden("You may only look up yourself unless you are a server admin")
		}
		return h(req, dev)
	}
}

func requireAdmin(h adminHandler) httputil.AuthedHandler {
	return func(req *http.Request, dev *httputil.Device) httputil.JSONResponse {
		if !dev.IsAdmin {
			return httputil.Forbidden("You are not a server admin")
		}
		return h(req, dev)
	}
}
