package clientapi

import (
	"crypto/rand"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/uia"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// registerRequest is the body of POST /register.
type registerRequest struct {
	Auth                     *uia.Auth `json:"auth"`
	Username                 string    `json:"username"`
	Password                 string    `json:"password"`
	DeviceID                 string    `json:"device_id"`
	InitialDeviceDisplayName string    `json:"initial_device_display_name"`
	InhibitLogin             bool      `json:"inhibit_login"`
	RefreshToken             bool      `json:"refresh_token"`
	// Type "m.login.application_service" registers an appservice user.
	Type string `json:"type"`
}

// sessionResponse is the body of a successful register or login.
type sessionResponse struct {
	UserID       string `json:"user_id"`
	AccessToken  string `json:"access_token,omitempty"`
	DeviceID     string `json:"device_id,omitempty"`
	HomeServer   string `json:"home_server,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresInMs  int64  `json:"expires_in_ms,omitempty"`
	// WellKnown (login only) tells the client the server's public URL.
	WellKnown map[string]any `json:"well_known,omitempty"`
}

func (a *accountRoutes) sessionResponse(s *uapi.Session) sessionResponse {
	return sessionResponse{
		UserID: s.UserID, AccessToken: s.AccessToken, DeviceID: s.DeviceID, HomeServer: a.cfg.ServerName,
		RefreshToken: s.RefreshToken, ExpiresInMs: s.ExpiresInMs,
	}
}

// clientWellKnown is the body of /.well-known/matrix/client, or nil if
// public_base_url is not set.
func (a *accountRoutes) clientWellKnown() map[string]any {
	if a.cfg.PublicBaseURL == "" {
		return nil
	}
	return map[string]any{"m.homeserver": map[string]string{"base_url": a.cfg.PublicBaseURL}}
}

// registrationFlows are the UIA flows /register offers in the current mode.
func (a *accountRoutes) registrationFlows() [][]string {
	if a.cfg.Registration.Mode == "token" {
		return [][]string{{stageRegistrationToken}}
	}
	return [][]string{{stageDummy}}
}

// register: POST /register.
func (a *accountRoutes) register(req *http.Request) httputil.JSONResponse {
	kind := req.URL.Query().Get("kind")
	if kind != "" && kind != "user" && kind != "guest" {
		return httputil.InvalidParam("kind must be user or guest")
	}
	// Appservices register their users in bulk: not limited per IP.
	if _, notAS := a.appservices.appserviceCaller(req); notAS != nil {
		if limited := a.limits.registerIP.CheckIP(req); limited != nil {
			return *limited
		}
	}
	var body registerRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.DeviceID != "" && !validDeviceID(body.DeviceID) {
		return httputil.InvalidParam("device_id must be 1-255 bytes without spaces or control characters")
	}
	if body.Type == loginTypeAppservice {
		return a.registerAppservice(req, &body)
	}
	if kind == "guest" {
		return a.registerGuest(req, &body)
	}
	switch a.cfg.Registration.Mode {
	case "open", "token":
	default:
		return httputil.Forbidden("Registration is disabled on this server")
	}
	body.Username = canonicalUsername(body.Username)
	// Check what can be checked before asking the client to authenticate.
	if body.Username != "" {
		if err := a.users.CheckLocalpart(req.Context(), body.Username); err != nil {
			return a.userError(err, "check username")
		}
		if r := a.appservices.checkUserNamespace(a.userID(body.Username), ""); r != nil {
			return *r
		}
	}
	if body.Password != "" && utf8.RuneCountInString(body.Password) < a.cfg.Registration.MinPasswordLen {
		return weakPassword(a.cfg.Registration.MinPasswordLen)
	}
	session, challenge := a.uia.Authenticate(req, body.Auth, uia.Op{Key: "register", Flows: a.registrationFlows()})
	if challenge != nil {
		return *challenge
	}
	if body.Password == "" {
		return httputil.MissingParam("A password is required")
	}
	userID, err := a.createAccount(req, body.Username, body.Password)
	if err != nil {
		return a.userError(err, "create account")
	}
	a.uia.Finish(session)
	return a.startSession(req, userID, &body)
}

// registerAppservice: POST /register with m.login.application_service and
// the as_token creates a passwordless user in the appservice's namespace,
// whatever the registration mode, without UIA.
func (a *accountRoutes) registerAppservice(req *http.Request, body *registerRequest) httputil.JSONResponse {
	reg, errResp := a.appservices.appserviceCaller(req)
	if errResp != nil {
		return *errResp
	}
	if body.Username == "" {
		return httputil.MissingParam("username is required")
	}
	userID := a.userID(body.Username)
	if !reg.OwnsUser(userID, a.cfg.ServerName) {
		return *exclusive("User ID %s is outside the application service's namespaces", userID)
	}
	if r := a.appservices.checkUserNamespace(userID, reg.ID); r != nil {
		return *r
	}
	if _, err := a.users.CreateAccount(req.Context(), body.Username, "", false); err != nil {
		return a.userError(err, "register appservice user")
	}
	return a.startSession(req, userID, body)
}

// userID is the full ID of a local localpart.
func (a *accountRoutes) userID(localpart string) string {
	return "@" + localpart + ":" + a.cfg.ServerName
}

// createAccount creates the account, picking a name if none was asked for.
func (a *accountRoutes) createAccount(req *http.Request, username, password string) (string, error) {
	if username != "" {
		userID, err := a.users.CreateAccount(req.Context(), username, password, false)
		return string(userID), err
	}
	for range 10 {
		localpart := generatedLocalpart()
		if a.appservices.checkUserNamespace(a.userID(localpart), "") != nil {
			continue
		}
		userID, err := a.users.CreateAccount(req.Context(), localpart, password, false)
		if !errors.Is(err, uapi.ErrUserInUse) {
			return string(userID), err
		}
	}
	return "", errors.New("could not generate a free user ID")
}

// generatedLocalpart is "user-" and ten random lowercase letters/digits.
func generatedLocalpart() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [10]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return "user-" + string(b[:])
}

// registerGuest: POST /register?kind=guest.
func (a *accountRoutes) registerGuest(req *http.Request, body *registerRequest) httputil.JSONResponse {
	if !a.cfg.Registration.AllowGuests {
		return httputil.Forbidden("Guest access is disabled on this server")
	}
	userID, err := a.users.CreateGuestAccount(req.Context())
	if err != nil {
		return a.userError(err, "create guest")
	}
	return a.startSession(req, string(userID), body)
}

// startSession logs a new account in unless the client asked not to.
func (a *accountRoutes) startSession(req *http.Request, userID string, body *registerRequest) httputil.JSONResponse {
	if body.InhibitLogin {
		return httputil.OK(sessionResponse{UserID: userID, HomeServer: a.cfg.ServerName})
	}
	sess, err := a.users.Login(req.Context(), uapi.LoginRequest{
		UserID: userID, DeviceID: body.DeviceID, DisplayName: body.InitialDeviceDisplayName,
		IP: httputil.ClientIP(req), UserAgent: req.UserAgent(), WantRefreshToken: body.RefreshToken,
	})
	if err != nil {
		return a.userError(err, "log in new account")
	}
	return httputil.OK(a.sessionResponse(sess))
}

func weakPassword(min int) httputil.JSONResponse {
	return httputil.Error(http.StatusBadRequest, "M_WEAK_PASSWORD", "Passwords must be at least %d characters long", min)
}

// registerAvailable: GET /register/available?username=.
func (a *accountRoutes) registerAvailable(req *http.Request) httputil.JSONResponse {
	if limited := a.limits.registerIP.CheckIP(req); limited != nil {
		return *limited
	}
	username := canonicalUsername(req.URL.Query().Get("username"))
	if username == "" {
		return httputil.MissingParam("username is required")
	}
	if err := a.users.CheckLocalpart(req.Context(), username); err != nil {
		return a.userError(err, "check username")
	}
	if r := a.appservices.checkUserNamespace(a.userID(username), ""); r != nil {
		return *r
	}
	return httputil.OK(map[string]bool{"available": true})
}

// registrationTokenValidity: GET /register/m.login.registration_token/validity.
func (a *accountRoutes) registrationTokenValidity(req *http.Request) httputil.JSONResponse {
	if a.cfg.Registration.Mode != "token" {
		return httputil.Forbidden("Registration tokens are not in use on this server")
	}
	if limited := a.limits.registerIP.CheckIP(req); limited != nil {
		return *limited
	}
	token := req.URL.Query().Get("token")
	if token == "" {
		return httputil.MissingParam("token is required")
	}
	if len(token) > maxRegistrationTokenLen {
		return httputil.InvalidParam("token is at most %d characters", maxRegistrationTokenLen)
	}
	valid, err := a.users.CheckRegistrationToken(req.Context(), token)
	if err != nil {
		return a.userError(err, "check registration token")
	}
	return httputil.OK(map[string]bool{"valid": valid})
}
