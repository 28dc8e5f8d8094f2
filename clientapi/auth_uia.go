package clientapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// User-Interactive Authentication (spec "User-Interactive Authentication
// API"): a request needing it first gets a 401 listing flows and a
// session; the client completes stages by resending the request with an
// `auth` dict until one flow is done. Sessions live in memory: they last
// minutes, and a restart only makes the client start over.

const (
	stageDummy             = "m.login.dummy"
	stagePassword          = "m.login.password"
	stageRegistrationToken = "m.login.registration_token"

	uiaSessionTTL = 15 * time.Minute
	maxUIASession = 100_000
)

// uiaAuth is a request's `auth` dict, with the fields of every stage we
// offer.
type uiaAuth struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	// m.login.password
	Identifier *loginIdentifier `json:"identifier"`
	User       string           `json:"user"` // deprecated form of identifier
	Password   string           `json:"password"`
	// m.login.registration_token
	Token string `json:"token"`
}

// uiaOp is an operation guarded by UIA.
type uiaOp struct {
	// Key binds a session to one operation and user, so a session
	// completed for one request cannot authorise another kind.
	Key   string
	Flows [][]string
	// UserID the m.login.password stage must authenticate as.
	UserID string
}

type uiaFlow struct {
	Stages []string `json:"stages"`
}

// uiaChallenge is the 401 body.
type uiaChallenge struct {
	ErrCode   string         `json:"errcode,omitempty"`
	Error     string         `json:"error,omitempty"`
	Completed []string       `json:"completed,omitempty"`
	Flows     []uiaFlow      `json:"flows"`
	Params    map[string]any `json:"params"`
	Session   string         `json:"session"`
}

type uiaSession struct {
	op        string
	completed []string
	expires   time.Time
}

type uiaSessions struct {
	mu sync.Mutex
	m  map[string]*uiaSession
}

func newUIASessions() *uiaSessions { return &uiaSessions{m: map[string]*uiaSession{}} }

func (s *uiaSessions) create(op string) (string, *uiaSession) {
	var b [18]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxUIASession {
		s.evictLocked(now)
	}
	sess := &uiaSession{op: op, expires: now.Add(uiaSessionTTL)}
	s.m[id] = sess
	return id, sess
}

// evictLocked drops expired sessions and, if that is not enough (a flood
// of new sessions), arbitrary ones down to 90% of the cap, so that the
// scan runs rarely.
func (s *uiaSessions) evictLocked(now time.Time) {
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	for k := range s.m {
		if len(s.m) < maxUIASession*9/10 {
			break
		}
		delete(s.m, k)
	}
}

func (s *uiaSessions) get(id string) *uiaSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.m[id]
	if sess != nil && time.Now().After(sess.expires) {
		delete(s.m, id)
		return nil
	}
	return sess
}

// completedStages returns a copy, safe to use outside the lock.
func (s *uiaSessions) completedStages(sess *uiaSession) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(sess.completed)
}

func (s *uiaSessions) complete(sess *uiaSession, stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(sess.completed, stage) {
		sess.completed = append(sess.completed, stage)
	}
}

// finish ends a session once its operation succeeded, so it cannot be
// replayed. (Until then a client may retry with the same session.)
func (s *uiaSessions) finish(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// authenticate runs one UIA round for req. It returns the session ID when
// a flow is complete (call a.uia.finish after the operation succeeds), or
// else the response to send: the 401 challenge or another error.
func (a *accountRoutes) authenticate(req *http.Request, auth *uiaAuth, op uiaOp) (string, *httputil.JSONResponse) {
	if auth == nil {
		id, _ := a.uia.create(op.Key)
		return "", a.challenge(id, op, nil, "", "")
	}
	id, sess := auth.Session, (*uiaSession)(nil)
	if id == "" {
		id, sess = a.uia.create(op.Key)
	} else if sess = a.uia.get(id); sess == nil {
		r := httputil.Unknown("Unknown or expired UIA session; start again without one")
		return "", &r
	} else if sess.op != op.Key {
		r := httputil.Unknown("This UIA session belongs to a different request")
		return "", &r
	}
	completed := a.uia.completedStages(sess)
	if auth.Type != "" && !slices.Contains(completed, auth.Type) {
		if !nextStageAllowed(op.Flows, completed, auth.Type) {
			return "", a.challenge(id, op, completed, "M_UNKNOWN", "Auth type "+auth.Type+" is not expected now")
		}
		if failure, errResp := a.runStage(req, auth, op); failure != "" {
			return "", a.challenge(id, op, completed, "M_FORBIDDEN", failure)
		} else if errResp != nil {
			return "", errResp
		}
		a.uia.complete(sess, auth.Type)
		completed = a.uia.completedStages(sess)
	}
	for _, flow := range op.Flows {
		if len(completed) >= len(flow) && slices.Equal(flow, completed[:len(flow)]) {
			return id, nil
		}
	}
	return "", a.challenge(id, op, completed, "", "")
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

// runStage checks one stage's credentials. A failure returns its message
// (answered with a 401 challenge); a rate limit or internal error returns
// the response to send instead.
func (a *accountRoutes) runStage(req *http.Request, auth *uiaAuth, op uiaOp) (string, *httputil.JSONResponse) {
	switch auth.Type {
	case stageDummy:
		return "", nil
	case stageRegistrationToken:
		if !a.validRegistrationToken(auth.Token) {
			return "Invalid registration token", nil
		}
		return "", nil
	case stagePassword:
		userID := op.UserID
		if auth.Identifier != nil || auth.User != "" {
			id, errResp := a.identifierUserID(auth.Identifier, auth.User)
			if errResp != nil || id != op.UserID {
				return "Invalid username or password", nil
			}
		}
		if limited := a.limits.loginUser.Check(req, userID); limited != nil {
			return "", limited
		}
		err := a.users.CheckPassword(req.Context(), userID, auth.Password)
		switch {
		case err == nil:
			return "", nil
		case errors.Is(err, uapi.ErrInvalidPassword), errors.Is(err, uapi.ErrUserDeactivated):
			return "Invalid username or password", nil
		default:
			r := a.userError(err, "uia password check")
			return "", &r
		}
	}
	return "Unsupported auth type", nil
}

func (a *accountRoutes) challenge(session string, op uiaOp, completed []string, errcode, msg string) *httputil.JSONResponse {
	flows := make([]uiaFlow, len(op.Flows))
	for i, f := range op.Flows {
		flows[i] = uiaFlow{Stages: f}
	}
	return &httputil.JSONResponse{Code: http.StatusUnauthorized, JSON: uiaChallenge{
		ErrCode: errcode, Error: msg, Completed: completed, Flows: flows, Params: map[string]any{}, Session: session,
	}}
}

// validRegistrationToken compares in constant time against every
// configured token.
func (a *accountRoutes) validRegistrationToken(token string) bool {
	ok := 0
	for _, t := range a.cfg.Registration.Tokens {
		ok |= subtle.ConstantTimeCompare([]byte(t), []byte(token))
	}
	return token != "" && ok == 1
}
