package clientapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// The Synapse-compatible shared-secret registration admin API, for
// provisioning scripts and load tests: GET a nonce, then POST the account
// with HMAC-SHA1(secret, nonce\0username\0password\0admin|notadmin
// [\0user_type]) in hex. It works in every registration mode when
// registration.shared_secret is set, and bypasses UIA and rate limits.

const sharedSecretPath = "/_synapse/admin/v1/register"

const (
	nonceTTL = time.Minute
	// maxNoncesPerIP live nonces per client IP: enough for a load tool
	// registering with hundreds of workers, while one client flooding
	// the endpoint holds at most this many and locks out no one else.
	maxNoncesPerIP = 1000
	// maxNonces bounds the store's memory; past it the oldest nonces
	// (of any IP) are dropped, so a flood from many IPs cannot lock
	// registration out either.
	maxNonces = 100_000
)

// nonceStore holds single-use nonces, limited per client IP.
type nonceStore struct {
	mu    sync.Mutex
	m     map[string]issuedNonce
	order []string               // nonces in issue (so expiry) order; used ones are skipped
	byIP  map[string][]time.Time // each IP's live nonces' expiries, oldest first
}

type issuedNonce struct {
	ip  string
	exp time.Time
}

func newNonceStore() *nonceStore {
	return &nonceStore{m: map[string]issuedNonce{}, byIP: map[string][]time.Time{}}
}

// issue returns a new nonce for ip, or how long until ip may have one.
func (s *nonceStore) issue(ip string) (string, time.Duration) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	nonce := hex.EncodeToString(b[:])
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	if live := s.byIP[ip]; len(live) >= maxNoncesPerIP {
		return "", live[0].Sub(now)
	}
	for len(s.m) >= maxNonces || len(s.order) >= 2*maxNonces {
		s.dropLocked(s.order[0])
		s.order = s.order[1:]
	}
	exp := now.Add(nonceTTL)
	s.m[nonce] = issuedNonce{ip: ip, exp: exp}
	s.order = append(s.order, nonce)
	s.byIP[ip] = append(s.byIP[ip], exp)
	return nonce, 0
}

// expireLocked drops nonces past their expiry from the head of order.
func (s *nonceStore) expireLocked(now time.Time) {
	for len(s.order) > 0 {
		n, ok := s.m[s.order[0]]
		if ok && now.Before(n.exp) {
			return
		}
		s.dropLocked(s.order[0])
		s.order = s.order[1:]
	}
}

// dropLocked forgets nonce (if still live) and its place in its IP's list.
func (s *nonceStore) dropLocked(nonce string) {
	n, ok := s.m[nonce]
	if !ok {
		return
	}
	delete(s.m, nonce)
	live := s.byIP[n.ip]
	for i, exp := range live {
		if exp.Equal(n.exp) {
			live = append(live[:i], live[i+1:]...)
			break
		}
	}
	if len(live) == 0 {
		delete(s.byIP, n.ip)
	} else {
		s.byIP[n.ip] = live
	}
}

// use consumes nonce, reporting whether it was issued and unexpired.
func (s *nonceStore) use(nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.m[nonce]
	s.dropLocked(nonce)
	return ok && time.Now().Before(n.exp)
}

func (a *accountRoutes) sharedSecretDisabled() *httputil.JSONResponse {
	if a.cfg.Registration.SharedSecret != "" {
		return nil
	}
	r := httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "Shared secret registration is not enabled (set registration.shared_secret)")
	return &r
}

// sharedSecretNonce: GET /_synapse/admin/v1/register.
func (a *accountRoutes) sharedSecretNonce(req *http.Request) httputil.JSONResponse {
	if errResp := a.sharedSecretDisabled(); errResp != nil {
		return *errResp
	}
	nonce, wait := a.nonces.issue(httputil.ClientIP(req))
	if nonce == "" {
		return httputil.LimitExceeded(max(wait.Milliseconds(), 1))
	}
	return httputil.OK(map[string]string{"nonce": nonce})
}

type sharedSecretRequest struct {
	Nonce       string `json:"nonce"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	Admin       bool   `json:"admin"`
	DisplayName string `json:"displayname"`
	UserType    string `json:"user_type"`
	MAC         string `json:"mac"`
}

// mac is what the client must send for r.
func (r *sharedSecretRequest) mac(secret string) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	role := "notadmin"
	if r.Admin {
		role = "admin"
	}
	parts := []string{r.Nonce, r.Username, r.Password, role}
	if r.UserType != "" {
		parts = append(parts, r.UserType)
	}
	for i, p := range parts {
		if i > 0 {
			m.Write([]byte{0})
		}
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// sharedSecretRegister: POST /_synapse/admin/v1/register.
func (a *accountRoutes) sharedSecretRegister(req *http.Request) httputil.JSONResponse {
	if errResp := a.sharedSecretDisabled(); errResp != nil {
		return *errResp
	}
	var body sharedSecretRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Nonce == "" || body.Username == "" || body.Password == "" || body.MAC == "" {
		return httputil.MissingParam("nonce, username, password and mac are required")
	}
	if !a.nonces.use(body.Nonce) {
		return httputil.Unknown("Unrecognised or expired nonce")
	}
	got, err := hex.DecodeString(body.MAC)
	if err != nil || !hmac.Equal(got, body.mac(a.cfg.Registration.SharedSecret)) {
		return httputil.Forbidden("HMAC incorrect")
	}
	userID, err := a.users.CreateAccount(req.Context(), canonicalUsername(body.Username), body.Password, body.Admin)
	if err != nil {
		return a.userError(err, "shared-secret registration")
	}
	if body.DisplayName != "" {
		name, _ := jsonString(body.DisplayName)
		if err := a.users.SetProfileField(req.Context(), userID, "displayname", name); err != nil {
			return a.userError(err, "set display name")
		}
	}
	sess, err := a.users.Login(req.Context(), uapi.LoginRequest{
		UserID: string(userID), IP: httputil.ClientIP(req), UserAgent: req.UserAgent(),
	})
	if err != nil {
		return a.userError(err, "log in new account")
	}
	return httputil.OK(a.sessionResponse(sess))
}
