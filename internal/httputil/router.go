package httputil

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Authenticator resolves an access token to a device. userapi implements it.
type Authenticator interface {
	// AuthenticateToken returns the device for token, or a *MatrixError
	// (M_UNKNOWN_TOKEN) when it is unknown, expired or revoked.
	AuthenticateToken(req *http.Request, token string) (*Device, *MatrixError)
}

// Handler answers a request without auth.
type Handler func(req *http.Request) JSONResponse

// AuthedHandler answers a request made with a valid access token.
type AuthedHandler func(req *http.Request, device *Device) JSONResponse

// Router is the server's single ServeMux plus the shared wrapping every
// route gets: panics become 500 M_UNKNOWN, unknown endpoints M_UNRECOGNIZED,
// CORS, metrics and a body size limit.
type Router struct {
	mux  *http.ServeMux
	Auth Authenticator
	// MaxBodyBytes caps every request body (media uploads register with
	// HandleRaw and set their own).
	MaxBodyBytes int64
	// Proxies whose X-Forwarded-For is believed.
	Proxies TrustedProxies
	// routeLimits override MaxBodyBytes per pattern (media uploads).
	routeLimits map[string]int64
}

// NewRouter returns an empty router.
func NewRouter(auth Authenticator) *Router {
	return &Router{mux: http.NewServeMux(), Auth: auth, MaxBodyBytes: 32 << 20}
}

// ClientPrefixes are the versions a client-server path is served under.
var ClientPrefixes = []string{"/_matrix/client/v3", "/_matrix/client/r0"}

// HandleClient registers a client-server API route under /v3 and /r0.
// pattern is "METHOD /path" with the path after the version prefix,
// e.g. "GET /account/whoami".
func (r *Router) HandleClient(pattern string, h Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	for _, p := range ClientPrefixes {
		r.Handle(method+" "+p+path, h)
	}
}

// HandleClientAuthed registers an authenticated client-server route under
// /v3 and /r0.
func (r *Router) HandleClientAuthed(pattern string, h AuthedHandler) {
	r.HandleClient(pattern, r.RequireAuth(h))
}

// Handle registers a route at an exact pattern ("METHOD /full/path").
func (r *Router) Handle(pattern string, h Handler) {
	r.HandleRaw(pattern, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h(req).Write(w)
	}))
}

// HandleAuthed registers an authenticated route at an exact pattern.
func (r *Router) HandleAuthed(pattern string, h AuthedHandler) {
	r.Handle(pattern, r.RequireAuth(h))
}

// HandleRaw registers a plain http.Handler (for streaming bodies).
func (r *Router) HandleRaw(pattern string, h http.Handler) {
	_, path, _ := strings.Cut(pattern, " ")
	route := routeLabel(path)
	r.mux.Handle(pattern, instrument(route, h))
}

// HandleRawLimit registers a plain http.Handler whose bodies may be up to
// maxBytes instead of MaxBodyBytes (media uploads).
func (r *Router) HandleRawLimit(pattern string, maxBytes int64, h http.Handler) {
	if r.routeLimits == nil {
		r.routeLimits = map[string]int64{}
	}
	r.routeLimits[pattern] = maxBytes
	r.HandleRaw(pattern, h)
}

// RequireAuth wraps h so it runs only with a valid access token.
func (r *Router) RequireAuth(h AuthedHandler) Handler {
	return func(req *http.Request) JSONResponse {
		token, ok := AccessToken(req)
		if !ok {
			return Error(http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token")
		}
		dev, merr := r.Auth.AuthenticateToken(req, token)
		if merr != nil {
			return JSONResponse{Code: http.StatusUnauthorized, JSON: merr}
		}
		return h(req, dev)
	}
}

// AccessToken finds the token in the Authorization header or, for older
// clients, the access_token query parameter.
func AccessToken(req *http.Request) (string, bool) {
	if h := req.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && token != "" {
			return strings.TrimSpace(token), true
		}
		return "", false
	}
	if t := req.URL.Query().Get("access_token"); t != "" {
		return t, true
	}
	return "", false
}

// ServeHTTP makes Router an http.Handler.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	setCORS(w)
	if req.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			slog.Error("panic in handler", "path", req.URL.Path, "panic", p)
			InternalError().Write(w)
		}
	}()
	r.Proxies.rewriteRemoteAddr(req)
	h, pattern := r.mux.Handler(req)
	if pattern == "" {
		// Not found or wrong method: ask the mux which, answer in Matrix.
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusMethodNotAllowed {
			Error(http.StatusMethodNotAllowed, "M_UNRECOGNIZED", "Method not allowed").Write(w)
			return
		}
		if rec.Code >= 300 && rec.Code < 400 { // path cleaning redirect
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			return
		}
		Unrecognized("Unrecognized request").Write(w)
		return
	}
	limit := r.MaxBodyBytes
	if l, ok := r.routeLimits[pattern]; ok {
		limit = l
	}
	if limit > 0 && req.Body != nil {
		req.Body = http.MaxBytesReader(w, req.Body, limit)
	}
	r.mux.ServeHTTP(w, req)
}

func setCORS(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization")
}

// routeLabel turns a pattern path into a metrics label, keeping the
// wildcards so the label set stays small.
func routeLabel(path string) string {
	return path
}

// since is split out for tests.
var since = time.Since
