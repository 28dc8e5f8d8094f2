package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// healthTimeout bounds one readiness check of all dependencies.
const healthTimeout = 3 * time.Second

// registerHealth serves GET /health (liveness: the process answers HTTP)
// and GET /health/ready (readiness: every database and the log answer),
// on the client and federation listeners, for load balancers and
// orchestrators. Readiness says which dependency fails but not why (the
// why is logged): the endpoint is public.
func (s *Server) registerHealth() {
	live := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("OK"))
	})
	ready := http.HandlerFunc(s.serveReady)
	for _, r := range []interface {
		HandleRaw(string, http.Handler)
	}{s.Base.Client, s.Base.Federation} {
		r.HandleRaw("GET /health", live)
		r.HandleRaw("GET /health/ready", ready)
		if s.Base.Federation == s.Base.Client {
			break
		}
	}
}

func (s *Server) serveReady(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), healthTimeout)
	defer cancel()
	checks := map[string]string{}
	ok := true
	record := func(name string, err error) {
		if err == nil {
			checks[name] = "ok"
			return
		}
		ok = false
		checks[name] = "failing"
		s.Base.Log.Warn("readiness check failed", "check", name, "error", err)
	}
	for component, err := range s.Base.CheckDatabases(ctx) {
		record("database:"+component, err)
	}
	if s.Base.Bus != nil {
		record("nats", s.Base.Bus.Check(ctx))
	}
	status := "ok"
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		status = "failing"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "checks": checks})
}
