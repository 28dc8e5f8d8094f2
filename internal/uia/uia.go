// Package uia is User-Interactive Authentication (spec "User-Interactive
// Authentication API"), shared by every endpoint that needs it (clientapi
// account routes, keyserver cross-signing upload). A request needing it
// first gets a 401 listing flows and a session; the client completes
// stages by resending the request with an `auth` dict until one flow is
// done. Sessions live in memory with a TTL, bound to one operation and
// user.
package uia

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// The stages offered somewhere on this server.
const (
	StageDummy             = "m.login.dummy"
	StagePassword          = "m.login.password"
	StageRegistrationToken = "m.login.registration_token"
)

const (
	defaultTTL         = 15 * time.Minute
	defaultMaxSessions = 100_000
)

// Auth is a request's `auth` dict, with the fields of every stage offered.
type Auth struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	// m.login.password
	Identifier *Identifier `json:"identifier"`
	User       string      `json:"user"` // deprecated form of identifier
	Password   string      `json:"password"`
	// m.login.registration_token
	Token string `json:"token"`
}

// Op is an operation guarded by UIA.
type Op struct {
	// Key binds a session to one operation and user, so a session
	// completed for one request cannot authorise another kind.
	Key   string
	Flows [][]string
	// UserID the m.login.password stage must authenticate as.
	UserID string
}

// PasswordOp is UIA by userID's current password for action.
func PasswordOp(action, userID string) Op {
	return Op{Key: action + "\x00" + userID, Flows: [][]string{{StagePassword}}, UserID: userID}
}

// Flow is one flow of a challenge.
type Flow struct {
	Stages []string `json:"stages"`
}

// Challenge is the 401 body.
type Challenge struct {
	ErrCode   string         `json:"errcode,omitempty"`
	Error     string         `json:"error,omitempty"`
	Completed []string       `json:"completed,omitempty"`
	Flows     []Flow         `json:"flows"`
	Params    map[string]any `json:"params"`
	Session   string         `json:"session"`
}

// PasswordChecker verifies a user's password (the userapi has it): nil,
// an error Config.Rejected recognises, or an internal error.
type PasswordChecker interface {
	CheckPassword(ctx context.Context, userID matrixid.UserID, password string) error
}

// StageFunc checks one stage's credentials. A failure returns its
// message (answered with a 401 challenge); a rate limit or internal
// error returns the response to send instead.
type StageFunc func(req *http.Request, auth *Auth, op Op) (failure string, resp *httputil.JSONResponse)

// Config is what an Authenticator needs.
type Config struct {
	ServerName string
	Passwords  PasswordChecker
	// Rejected reports whether a PasswordChecker error means the
	// credentials were refused (answered with a challenge) rather than an
	// internal failure (userapi/api.IsRejectedCredentials).
	Rejected func(error) bool
	// RateLimit, if set, is asked before each password check of userID
	// (login rate limiting); a non-nil answer is sent as is.
	RateLimit func(req *http.Request, userID string) *httputil.JSONResponse
	// Stages adds stages beyond m.login.dummy and m.login.password.
	Stages map[string]StageFunc
	Log    *slog.Logger
	// TTL and MaxSessions default to 15 minutes and 100 000 (the
	// in-memory store's).
	TTL         time.Duration
	MaxSessions int
	// Store, if set, keeps the sessions instead of this process's memory
	// (KVStore: several clientapi processes).
	Store Store
}

// Authenticator runs UIA. It lives as long as the component using it.
type Authenticator struct {
	cfg      Config
	sessions Store
}

// storeTimeout bounds one session read or write.
const storeTimeout = 5 * time.Second

// New returns an Authenticator.
func New(cfg Config) *Authenticator {
	if cfg.TTL <= 0 {
		cfg.TTL = defaultTTL
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = defaultMaxSessions
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a := &Authenticator{cfg: cfg, sessions: cfg.Store}
	if a.sessions == nil {
		a.sessions = newSessions(cfg.TTL, cfg.MaxSessions)
	}
	return a
}

// DefaultTTL is how long a session lasts unused (a KVStore bucket's TTL).
const DefaultTTL = defaultTTL

// Authenticate runs one UIA round for req. It returns the session ID when
// a flow is complete (call Finish after the operation succeeded), or else
// the response to send: the 401 challenge or another error.
func (a *Authenticator) Authenticate(req *http.Request, auth *Auth, op Op) (string, *httputil.JSONResponse) {
	ctx, cancel := context.WithTimeout(req.Context(), storeTimeout)
	defer cancel()
	if auth == nil {
		id, err := a.sessions.Create(ctx, op.Key)
		if err != nil {
			return "", a.storeError(err)
		}
		return "", challenge(id, op, nil, "", "")
	}
	id := auth.Session
	var completed []string
	if id == "" {
		var err error
		if id, err = a.sessions.Create(ctx, op.Key); err != nil {
			return "", a.storeError(err)
		}
	} else {
		sessOp, done, ok, err := a.sessions.Get(ctx, id)
		switch {
		case err != nil:
			return "", a.storeError(err)
		case !ok:
			r := httputil.Unknown("Unknown or expired UIA session; start again without one")
			return "", &r
		case sessOp != op.Key:
			r := httputil.Unknown("This UIA session belongs to a different request")
			return "", &r
		}
		completed = done
	}
	if auth.Type != "" && !slices.Contains(completed, auth.Type) {
		if !nextStageAllowed(op.Flows, completed, auth.Type) {
			return "", challenge(id, op, completed, "M_UNKNOWN", "Auth type "+auth.Type+" is not expected now")
		}
		if failure, errResp := a.runStage(req, auth, op); failure != "" {
			return "", challenge(id, op, completed, "M_FORBIDDEN", failure)
		} else if errResp != nil {
			return "", errResp
		}
		var err error
		if completed, err = a.sessions.Complete(ctx, id, auth.Type); errors.Is(err, errSessionGone) {
			r := httputil.Unknown("Unknown or expired UIA session; start again without one")
			return "", &r
		} else if err != nil {
			return "", a.storeError(err)
		}
	}
	for _, flow := range op.Flows {
		if len(completed) >= len(flow) && slices.Equal(flow, completed[:len(flow)]) {
			return id, nil
		}
	}
	return "", challenge(id, op, completed, "", "")
}

// storeError answers a session store failure (NATS unreachable).
func (a *Authenticator) storeError(err error) *httputil.JSONResponse {
	a.cfg.Log.Error("uia session store", "error", err)
	r := httputil.InternalError()
	return &r
}

// Finish ends a session once its operation succeeded, so it cannot be
// replayed. (Until then a client may retry with the same session.)
func (a *Authenticator) Finish(session string) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	a.sessions.Remove(ctx, session)
}

// nextStageAllowed: stages must be completed in the order of some flow.
func nextStageAllowed(flows [][]string, completed []string, stage string) bool {
	for _, flow := range flows {
		if len(flow) > len(completed) && slices.Equal(flow[:len(completed)], completed) && flow[len(completed)] == stage {
			return true
		}
	}
	return false
}

func (a *Authenticator) runStage(req *http.Request, auth *Auth, op Op) (string, *httputil.JSONResponse) {
	switch auth.Type {
	case StageDummy:
		return "", nil
	case StagePassword:
		return a.checkPassword(req, auth, op)
	}
	if f := a.cfg.Stages[auth.Type]; f != nil {
		return f(req, auth, op)
	}
	return "Unsupported auth type", nil
}

// checkPassword is the m.login.password stage: the identifier, if given,
// must name op.UserID. One naming another user of this server is refused
// with 403 (no challenge, no password check): the request is not theirs
// to authorise, whatever their password.
func (a *Authenticator) checkPassword(req *http.Request, auth *Auth, op Op) (string, *httputil.JSONResponse) {
	const invalid = "Invalid username or password"
	if auth.Identifier != nil || auth.User != "" {
		id, errResp := UserID(a.cfg.ServerName, auth.Identifier, auth.User)
		if errResp != nil {
			return invalid, nil
		}
		if id != op.UserID {
			r := httputil.Forbidden("The identifier names another user than the one this request is for")
			return "", &r
		}
	}
	if a.cfg.RateLimit != nil {
		if limited := a.cfg.RateLimit(req, op.UserID); limited != nil {
			return "", limited
		}
	}
	err := a.cfg.Passwords.CheckPassword(req.Context(), matrixid.UserID(op.UserID), auth.Password)
	switch {
	case err == nil:
		return "", nil
	case a.cfg.Rejected != nil && a.cfg.Rejected(err):
		return invalid, nil
	}
	if !errors.Is(err, context.Canceled) { // a client that left is no server error
		a.cfg.Log.Error("uia password check", "error", err)
	}
	r := httputil.InternalError()
	return "", &r
}

func challenge(session string, op Op, completed []string, errcode, msg string) *httputil.JSONResponse {
	flows := make([]Flow, len(op.Flows))
	for i, f := range op.Flows {
		flows[i] = Flow{Stages: f}
	}
	return &httputil.JSONResponse{Code: http.StatusUnauthorized, JSON: Challenge{
		ErrCode: errcode, Error: msg, Completed: completed, Flows: flows, Params: map[string]any{}, Session: session,
	}}
}
