package keyserver

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// A minimal User-Interactive Authentication (password only) for
// /keys/device_signing/upload. clientapi's UIA is not exported; this
// keeps the same wire behaviour: a 401 challenge with a session, then
// the request again with an m.login.password `auth` dict. Sessions live
// in memory for minutes, bound to the user they were issued for.

const (
	uiaPassword   = "m.login.password"
	uiaSessionTTL = 15 * time.Minute
	maxUIASession = 10_000
)

type uiaAuth struct {
	Type       string `json:"type"`
	Session    string `json:"session"`
	Identifier *struct {
		Type string `json:"type"`
		User string `json:"user"`
	} `json:"identifier"`
	User     string `json:"user"`
	Password string `json:"password"`
}

type uiaSessions struct {
	mu sync.Mutex
	m  map[string]uiaSession
}

type uiaSession struct {
	userID  string
	expires time.Time
}

func newUIASessions() *uiaSessions { return &uiaSessions{m: map[string]uiaSession{}} }

func (s *uiaSessions) create(userID string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxUIASession {
		for k, v := range s.m {
			if now.After(v.expires) || len(s.m) >= maxUIASession {
				delete(s.m, k)
			}
		}
	}
	s.m[id] = uiaSession{userID: userID, expires: now.Add(uiaSessionTTL)}
	return id
}

// valid reports whether id is a live session of userID.
func (s *uiaSessions) valid(id, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[id]
	return ok && sess.userID == userID && time.Now().Before(sess.expires)
}

func (s *uiaSessions) finish(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// authenticate checks the request's `auth` for userID. It returns nil
// when the password is right (the session is then spent), or the
// response to send: a 401 challenge, or another error.
func (k *Keyserver) authenticate(req *http.Request, auth *uiaAuth, userID string) *httputil.JSONResponse {
	if auth == nil || auth.Session == "" || !k.uia.valid(auth.Session, userID) {
		return k.challenge(k.uia.create(userID), "", "")
	}
	if auth.Type != uiaPassword {
		return k.challenge(auth.Session, "M_UNKNOWN", "Only m.login.password is supported here")
	}
	claimed := auth.User
	if auth.Identifier != nil {
		claimed = auth.Identifier.User
	}
	if claimed != "" && claimed != userID && !strings.HasPrefix(userID, "@"+claimed+":") {
		return k.challenge(auth.Session, "M_FORBIDDEN", "Invalid username or password")
	}
	err := k.users.CheckPassword(req.Context(), userID, auth.Password)
	switch {
	case err == nil:
		k.uia.finish(auth.Session)
		return nil
	case errors.Is(err, uapi.ErrInvalidPassword), errors.Is(err, uapi.ErrUserDeactivated):
		return k.challenge(auth.Session, "M_FORBIDDEN", "Invalid username or password")
	default:
		k.log.Error("uia password check", "error", err)
		r := httputil.InternalError()
		return &r
	}
}

func (k *Keyserver) challenge(session, errcode, msg string) *httputil.JSONResponse {
	body := map[string]any{
		"flows":   []map[string]any{{"stages": []string{uiaPassword}}},
		"params":  map[string]any{},
		"session": session,
	}
	if errcode != "" {
		body["errcode"], body["error"] = errcode, msg
	}
	return &httputil.JSONResponse{Code: http.StatusUnauthorized, JSON: body}
}
