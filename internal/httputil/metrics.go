package httputil

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var requestDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
	Namespace: "axon",
	Name:      "http_request_duration_seconds",
	Help:      "HTTP request latency by route, method and status code.",
	Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
}, []string{"route", "method", "code"})

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush passes through so long-polls and streams can flush.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument records every request's duration and, with an access log,
// logs it (the route template, never the raw path: no IDs or tokens).
func (r *Router) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		var who *accessUser
		if r.AccessLog != nil {
			who = &accessUser{}
			req = req.WithContext(context.WithValue(req.Context(), accessUserKey{}, who))
		}
		h.ServeHTTP(rec, req)
		took := since(start)
		requestDuration.WithLabelValues(route, req.Method, strconv.Itoa(rec.code)).Observe(took.Seconds())
		if who != nil {
			r.AccessLog.LogAttrs(req.Context(), slog.LevelInfo, "request",
				slog.String("method", req.Method), slog.String("route", route), slog.Int("status", rec.code),
				slog.Float64("duration_ms", float64(took.Microseconds())/1000), slog.String("user", who.userID),
				slog.String("ip", ClientIP(req)))
		}
	})
}

// accessUser is filled in by RequireAuth for the access log.
type accessUser struct{ userID string }

type accessUserKey struct{}

// noteAccessUser records the authenticated user for the access log.
func noteAccessUser(req *http.Request, userID string) {
	if who, ok := req.Context().Value(accessUserKey{}).(*accessUser); ok {
		who.userID = userID
	}
}
