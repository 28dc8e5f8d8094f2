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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/axon-hs/axon/clientapi"
	"github.com/axon-hs/axon/federationapi"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/roomserver"
	"github.com/axon-hs/axon/syncapi"
	"github.com/axon-hs/axon/userapi"
)

// Server is a running Axon process.
type Server struct {
	Base  *setup.Base
	Users *userapi.UserAPI
	Rooms *roomserver.RoomServer
	Sync  *syncapi.SyncAPI
	Fed   *federationapi.FederationAPI

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
	users, err := userapi.New(ctx, base)
	if err != nil {
		return fmt.Errorf("userapi: %w", err)
	}
	s.Users = users
	base.Client = httputil.NewRouter(users)
	base.Client.MaxBodyBytes = base.Cfg.Limits.MaxRequestBytes
	base.Client.Proxies = httputil.ParseTrustedProxies(base.Cfg.TrustedProxies)
	base.Federation = base.Client
	if base.Cfg.Listeners.Federation.Address != "" {
		base.Federation = httputil.NewRouter(users)
		base.Federation.MaxBodyBytes = base.Cfg.Limits.MaxRequestBytes
		base.Federation.Proxies = base.Client.Proxies
	}
	if s.Rooms, err = roomserver.New(ctx, base); err != nil {
		return fmt.Errorf("roomserver: %w", err)
	}
	if s.Sync, err = syncapi.New(ctx, base, users, s.Rooms); err != nil {
		return fmt.Errorf("syncapi: %w", err)
	}
	clientapi.New(base, users, s.Rooms)
	if base.Cfg.Federation.Enabled {
		if s.Fed, err = federationapi.New(ctx, base, s.Rooms, users); err != nil {
			return fmt.Errorf("federationapi: %w", err)
		}
	}
	return nil
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
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
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
	if err := add("client", cfg.Listeners.Client, s.Base.Client); err != nil {
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
	if s.Fed != nil {
		s.Fed.Close()
	}
	if s.Rooms != nil {
		s.Rooms.Close()
	}
	if s.Users != nil {
		s.Users.Close()
	}
	if s.Base.Bus != nil {
		s.Base.Bus.Close()
	}
	s.Base.CloseDatabases()
}
