// Package server assembles the components into one running process
// (monolith, or the subset a polylith process is told to run), starts the
// listeners and shuts everything down in order.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/axon-hs/axon/adminapi"
	"github.com/axon-hs/axon/appservice"
	asapi "github.com/axon-hs/axon/appservice/api"
	"github.com/axon-hs/axon/clientapi"
	"github.com/axon-hs/axon/federationapi"
	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/keyserver"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/mediaapi"
	mapi "github.com/axon-hs/axon/mediaapi/api"
	"github.com/axon-hs/axon/pushserver"
	"github.com/axon-hs/axon/reports"
	rapi "github.com/axon-hs/axon/reports/api"
	"github.com/axon-hs/axon/roomserver"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi"
	"github.com/axon-hs/axon/userapi"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Server is a running Axon process. In a monolith every component runs
// here; in a polylith (config "components") the ones that don't are
// reached over NATS RPC through the same Go interfaces.
type Server struct {
	Base *setup.Base
	// UserAPI and RoomAPI are the interfaces every component uses: the
	// local component, or an RPC client for one running elsewhere.
	UserAPI uapi.UserAPI
	RoomAPI rsapi.RoomserverAPI
	KeyAPI  ksapi.KeyserverAPI
	// The components running in this process (nil when elsewhere).
	Users *userapi.UserAPI
	Keys  *keyserver.Keyserver
	Rooms *roomserver.RoomServer
	Sync  *syncapi.SyncAPI
	Push  *pushserver.PushServer
	// Reports holds users' content reports (with clientapi).
	Reports *reports.Reports
	// Admin is the admin API (with clientapi).
	Admin *adminapi.AdminAPI
	Fed   *federationapi.FederationAPI
	AS    *appservice.Component
	Media *mediaapi.MediaAPI

	stopRPC   context.CancelFunc
	listeners []*listener
	wg        sync.WaitGroup
}

type listener struct {
	name string
	srv  *http.Server
	ln   net.Listener
	tls  bool
}

// New opens databases and the log and builds every component, without
// listening yet.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	bus, err := stream.Connect(ctx, stream.Config{
		URLs:     cfg.NATS.URLs,
		StoreDir: filepath.Join(cfg.DataDir, "nats"),
		Prefix:   cfg.NATS.Prefix,
		Replicas: cfg.NATS.Replicas,
	})
	if err != nil {
		return nil, err
	}
	buildInfo.WithLabelValues(federationapi.Version, runtime.Version()).Set(1)
	base := &setup.Base{Cfg: cfg, Bus: bus, Log: log}
	s := &Server{Base: base}
	if err := s.build(ctx); err != nil {
		s.closeComponents()
		return nil, err
	}
	return s, nil
}

func (s *Server) build(ctx context.Context) error {
	base := s.Base
	cfg := base.Cfg
	rpcCtx, stopRPC := context.WithCancel(context.Background())
	s.stopRPC = stopRPC

	var auth httputil.Authenticator
	if cfg.Runs("userapi") {
		users, err := userapi.New(ctx, base)
		if err != nil {
			return fmt.Errorf("userapi: %w", err)
		}
		s.Users, s.UserAPI, auth = users, users, users
		if err := s.serveRPC(rpcCtx, "userapi", (*uapi.UserAPI)(nil), users); err != nil {
			return err
		}
	} else {
		s.UserAPI = &uapi.UserAPIClient{C: s.rpcClient("userapi")}
		auth = userapi.TokenAuthenticator{API: s.UserAPI}
	}
	// Appservice as_tokens are resolved from the registrations, here.
	auth = &appservice.Authenticator{Cfg: cfg, Next: auth, Users: s.UserAPI}
	s.buildRouters(auth)
	s.registerHealth()

	if cfg.Runs("keyserver") {
		keys, err := keyserver.New(ctx, base, s.UserAPI)
		if err != nil {
			return fmt.Errorf("keyserver: %w", err)
		}
		s.Keys, s.KeyAPI = keys, keys
		if err := s.serveRPC(rpcCtx, "keyserver", (*ksapi.KeyserverAPI)(nil), keys); err != nil {
			return err
		}
	} else {
		s.KeyAPI = &ksapi.KeyserverAPIClient{C: s.rpcClient("keyserver")}
		if cfg.Runs("clientapi") { // serve /keys and /room_keys here, over RPC
			keyserver.RegisterRoutes(base, s.KeyAPI, s.UserAPI)
		}
	}

	if cfg.Runs("roomserver") {
		rooms, err := roomserver.New(ctx, base, s.UserAPI)
		if err != nil {
			return fmt.Errorf("roomserver: %w", err)
		}
		s.Rooms, s.RoomAPI = rooms, rooms
		if err := s.serveRPC(rpcCtx, "roomserver", (*rsapi.RoomserverAPI)(nil), rooms); err != nil {
			return err
		}
	} else {
		s.RoomAPI = &rsapi.RetryingClient{RoomserverAPIClient: &rsapi.RoomserverAPIClient{C: s.rpcClient("roomserver")}}
	}

	var err error
	var as asapi.AppserviceAPI
	if cfg.Runs("appservice") {
		if s.AS, err = appservice.New(ctx, base, s.UserAPI, s.RoomAPI, s.KeyAPI); err != nil {
			return fmt.Errorf("appservice: %w", err)
		}
		as = s.AS
		if err := s.serveRPC(rpcCtx, "appservice", (*asapi.AppserviceAPI)(nil), s.AS); err != nil {
			return err
		}
	} else {
		as = &asapi.AppserviceAPIClient{C: s.rpcClient("appservice")}
	}
	var fed fedapi.FederationAPI
	if cfg.Federation.Enabled {
		if cfg.Runs("federationapi") {
			if s.Fed, err = federationapi.New(ctx, base, s.RoomAPI, s.UserAPI, s.KeyAPI, as); err != nil {
				return fmt.Errorf("federationapi: %w", err)
			}
			fed = s.Fed
			if err := s.serveRPC(rpcCtx, "federationapi", (*fedapi.FederationAPI)(nil), s.Fed); err != nil {
				return err
			}
		} else {
			fed = &fedapi.FederationAPIClient{C: s.rpcClient("federationapi")}
		}
		// The one late binding, closing the one cycle: the keyserver asks
		// federation for remote users' keys, federation serves local keys
		// from the keyserver. Every other dependency is a constructor
		// argument, built in dependency order.
		if s.Keys != nil {
			s.Keys.SetRemote(fed)
		}
	}
	if cfg.Runs("syncapi") {
		wake := pushserver.NewWakeups(cfg.Partitioning.Instance != "")
		if s.Sync, err = syncapi.New(ctx, base, s.UserAPI, s.RoomAPI, s.KeyAPI, fed, wake); err != nil {
			return fmt.Errorf("syncapi: %w", err)
		}
		// Push delivery reads syncapi's notifications, so it runs beside it.
		if s.Push, err = pushserver.New(ctx, base, s.Sync, wake); err != nil {
			return fmt.Errorf("pushserver: %w", err)
		}
	}
	var media adminapi.MediaAdmin
	if cfg.Runs("mediaapi") {
		if s.Media, err = mediaapi.New(ctx, base, s.mediaDeps(fed)); err != nil {
			return fmt.Errorf("mediaapi: %w", err)
		}
		media = s.Media
		if err := s.serveRPC(rpcCtx, "mediaapi", (*mapi.MediaAdminAPI)(nil), s.Media); err != nil {
			return err
		}
	} else {
		media = &mapi.MediaAdminAPIClient{C: s.rpcClient("mediaapi")}
	}
	if cfg.Runs("clientapi") {
		clientapi.New(base, s.UserAPI, s.RoomAPI, fed, as)
		appservice.RegisterRoutes(base, as, s.RoomAPI)
		if s.Reports, err = reports.New(ctx, base); err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		if err := s.serveRPC(rpcCtx, "reports", (*rapi.ReportsAPI)(nil), s.Reports); err != nil {
			return err
		}
		if s.Admin, err = adminapi.New(ctx, base, adminapi.Deps{Users: s.UserAPI, Rooms: s.RoomAPI, Federation: fed, Reports: s.Reports, Version: federationapi.Version, Media: media}); err != nil {
			return fmt.Errorf("adminapi: %w", err)
		}
	}
	return nil
}

// mediaDeps: signatures are checked by federationapi (here or over RPC);
// media is fetched over its transport, shared when it runs here.
func (s *Server) mediaDeps(fed fedapi.FederationAPI) mediaapi.Deps {
	if fed == nil {
		return mediaapi.Deps{}
	}
	deps := mediaapi.Deps{Verifier: fed}
	if s.Fed != nil {
		deps.Remote = s.Fed.RawClient()
	} else {
		deps.Remote = federationapi.NewRawClient(s.Base.Cfg)
	}
	return deps
}

func (s *Server) buildRouters(auth httputil.Authenticator) {
	base := s.Base
	base.Client = httputil.NewRouter(auth)
	base.Client.MaxBodyBytes = base.Cfg.Limits.MaxRequestBytes
	base.Client.BodyTimeout = base.Cfg.Limits.BodyTimeout
	base.Client.Proxies = httputil.ParseTrustedProxies(base.Cfg.TrustedProxies)
	base.Federation = base.Client
	if base.Cfg.Listeners.Federation.Address != "" {
		base.Federation = httputil.NewRouter(auth)
		base.Federation.MaxBodyBytes = base.Cfg.Limits.MaxRequestBytes
		base.Federation.BodyTimeout = base.Cfg.Limits.BodyTimeout
		base.Federation.Proxies = base.Client.Proxies
	}
	if base.Cfg.Logging.AccessLog && base.Log != nil {
		access := base.Log.With("log", "access")
		base.Client.AccessLog, base.Federation.AccessLog = access, access
	}
}

// Listen binds the configured listeners (so a test can read the chosen
// ports before serving) and starts serving.
func (s *Server) Listen() error {
	cfg := s.Base.Cfg
	add := func(name string, l config.Listener, h http.Handler) error {
		if l.Address == "" {
			return nil
		}
		ln, err := net.Listen("tcp", l.Address)
		if err != nil {
			return fmt.Errorf("listeners.%s: listen on %s: %w", name, l.Address, err)
		}
		ln = httputil.LimitConnsPerIP(ln, cfg.Limits.MaxConnectionsPerIP, s.Base.Client.Proxies)
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: cfg.Limits.HeaderTimeout,
			IdleTimeout:       cfg.Limits.IdleTimeout,
			ErrorLog:          slog.NewLogLogger(s.Base.Log.Handler(), slog.LevelDebug),
		}
		lis := &listener{name: name, srv: srv, ln: ln}
		if l.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(cfg.ResolvePath(l.TLSCert), cfg.ResolvePath(l.TLSKey))
			if err != nil {
				ln.Close()
				return fmt.Errorf("listeners.%s: TLS certificate: %w", name, err)
			}
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			lis.tls = true
		}
		s.listeners = append(s.listeners, lis)
		return nil
	}
	if err := add("client", cfg.Listeners.Client, s.clientHandler()); err != nil {
		return err
	}
	if s.Base.Federation != s.Base.Client {
		if err := add("federation", cfg.Listeners.Federation, s.Base.Federation); err != nil {
			s.closeListeners()
			return err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.Handler())
	// Profiling next to metrics: the metrics listener is meant to be
	// private (loopback by default).
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if err := add("metrics", cfg.Listeners.Metrics, mux); err != nil {
		s.closeListeners()
		return err
	}
	for _, l := range s.listeners {
		s.wg.Add(1)
		go func(l *listener) {
			defer s.wg.Done()
			var err error
			if l.tls {
				err = l.srv.ServeTLS(l.ln, "", "")
			} else {
				err = l.srv.Serve(l.ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.Base.Log.Error("listener stopped", "listener", l.name, "error", err)
			}
		}(l)
		s.Base.Log.Info("listening", "listener", l.name, "address", l.ln.Addr().String(), "tls", l.tls)
	}
	return nil
}

// clientHandler is what the client listener serves. With a federation
// listener of its own, the client listener still answers the federation
// and key paths (through the federation router), so one port behind a
// reverse proxy carries both APIs, as operators expect from other servers,
// and a wrong method on a federation path gets 405 there too.
func (s *Server) clientHandler() http.Handler {
	client, fed := s.Base.Client, s.Base.Federation
	if fed == client {
		return client
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isFederationPath(r.URL.Path) {
			fed.ServeHTTP(w, r)
			return
		}
		client.ServeHTTP(w, r)
	})
}

func isFederationPath(p string) bool {
	return strings.HasPrefix(p, "/_matrix/federation/") || p == "/_matrix/federation" ||
		strings.HasPrefix(p, "/_matrix/key/") || p == "/_matrix/key"
}

// Addr returns the bound address of a listener ("client", "federation",
// "metrics"), or "" if it is not running.
func (s *Server) Addr(name string) string {
	for _, l := range s.listeners {
		if l.name == name {
			return l.ln.Addr().String()
		}
	}
	return ""
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		l.ln.Close()
	}
}

// Shutdown drains HTTP (in-flight requests finish, long-polls are woken),
// stops the components, flushes the log and closes the databases.
func (s *Server) Shutdown(ctx context.Context) {
	if s.Sync != nil {
		s.Sync.Close() // wake long-polls so HTTP can drain quickly
	}
	for _, l := range s.listeners {
		if err := l.srv.Shutdown(ctx); err != nil {
			s.Base.Log.Warn("http shutdown", "listener", l.name, "error", err)
		}
	}
	s.wg.Wait()
	s.closeComponents()
}

func (s *Server) closeComponents() {
	if s.Admin != nil {
		s.Admin.Close() // its jobs call the components below
	}
	if s.stopRPC != nil {
		s.stopRPC()
	}
	if s.AS != nil {
		s.AS.Close()
	}
	if s.Push != nil {
		s.Push.Close()
	}
	if s.Media != nil {
		s.Media.Close()
	}
	if s.Fed != nil {
		s.Fed.Close()
	}
	if s.Rooms != nil {
		s.Rooms.Close()
	}
	if s.Keys != nil {
		s.Keys.Close()
	}
	if s.Users != nil {
		s.Users.Close()
	}
	if s.Base.Bus != nil {
		s.Base.Bus.Close()
	}
	s.Base.CloseDatabases()
}
