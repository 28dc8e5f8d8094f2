package httputil

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
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
	// MaxBodyBytes caps every request body (limits.max_request_bytes); a
	// larger declared Content-Length is refused before reading.
	MaxBodyBytes int64
	// BodyTimeout bounds the time to receive a request body
	// (limits.body_timeout), so a client trickling bytes cannot hold a
	// connection; 0 disables.
	BodyTimeout time.Duration
	// Proxies whose X-Forwarded-For is believed.
	Proxies TrustedProxies
	// AccessLog, if set, gets one line per request (logging.access_log).
	AccessLog *slog.Logger
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
	r.mux.Handle(pattern, r.instrument(route, h))
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

// bodyTimeout is BodyTimeout for bodies up to MaxBodyBytes, and grows in
// proportion for routes allowing more (an upload of 100 times the size
// gets 100 times the time), so it acts as a minimum transfer rate.
func (r *Router) bodyTimeout(limit int64) time.Duration {
	if r.MaxBodyBytes <= 0 || limit <= r.MaxBodyBytes {
		return r.BodyTimeout
	}
	return r.BodyTimeout * time.Duration((limit+r.MaxBodyBytes-1)/r.MaxBodyBytes)
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
			return JSONResponse{Code: authErrorStatus(merr.ErrCode), JSON: merr}
		}
		noteAccessUser(req, dev.UserID)
		return h(req, dev)
	}
}

// authErrorStatus: a bad token is 401; an appservice token asserting a
// user or device it may not is 403 or 400; a failure to check the token
// is 503, so clients retry instead of dropping their session.
func authErrorStatus(errcode string) int {
	switch errcode {
	case "M_FORBIDDEN", "M_EXCLUSIVE":
		return http.StatusForbidden
	case "M_UNKNOWN_DEVICE":
		return http.StatusBadRequest
	case "M_UNKNOWN":
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
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
	if resp := checkRequestText(req); resp != nil {
		resp.Write(w)
		return
	}
	if !isCleanPath(req.URL.EscapedPath()) {
		// The mux would redirect to the cleaned path; a client following
		// it could reach an endpoint it did not ask for. Checked on the
		// escaped path, as the mux does: an escaped slash (%2F) inside a
		// segment, such as an mxc:// URI sent as a media ID, is not a
		// separator.
		Unrecognized("Unrecognized request").Write(w)
		return
	}
	h, pattern := r.mux.Handler(req)
	if pattern == "" {
		// Not found or wrong method: ask the mux which, answer in Matrix.
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusMethodNotAllowed {
			Error(http.StatusMethodNotAllowed, "M_UNRECOGNIZED", "Method not allowed").Write(w)
			return
		}
		// Anything else (a redirect to add a trailing slash included) is
		// an unknown endpoint.
		Unrecognized("Unrecognized request").Write(w)
		return
	}
	limit := r.MaxBodyBytes
	if l, ok := r.routeLimits[pattern]; ok {
		limit = l
	}
	if limit > 0 && req.ContentLength > limit {
		// Answer now rather than read what we would refuse; the unread
		// body makes the connection unusable, so close it.
		w.Header().Set("Connection", "close")
		TooLarge("Request body too large (limit %d bytes)", limit).Write(w)
		return
	}
	if req.Body != nil && req.Body != http.NoBody {
		if limit > 0 {
			req.Body = http.MaxBytesReader(w, req.Body, limit)
			req = req.WithContext(context.WithValue(req.Context(), bodyLimitKey{}, limit))
		}
		if r.BodyTimeout > 0 {
			req.Body = newDeadlineBody(w, req.Body, r.bodyTimeout(limit))
		}
	}
	r.mux.ServeHTTP(w, req)
}

// isCleanPath: no "//", "." or ".." segments, as the mux requires
// before it matches without redirecting.
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
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
