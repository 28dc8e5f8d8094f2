package clientapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/uia"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// loginRequest is the body of POST /login.
type loginRequest struct {
	Type       string           `json:"type"`
	Identifier *loginIdentifier `json:"identifier"`
	// User is the deprecated form of identifier.
	User     string `json:"user"`
	Password string `json:"password"`
	// Token is the m.login.token login token.
	Token                    string `json:"token"`
	DeviceID                 string `json:"device_id"`
	InitialDeviceDisplayName string `json:"initial_device_display_name"`
	RefreshToken             bool   `json:"refresh_token"`
}

// loginTypeToken logs in with a token from POST /login/get_token.
const loginTypeToken = "m.login.token"

// loginFlows: GET /login. m.login.token is offered when login tokens can
// be minted here (registration.get_login_token).
func (a *accountRoutes) loginFlows(req *http.Request) httputil.JSONResponse {
	flows := []map[string]any{{"type": stagePassword}, {"type": loginTypeAppservice}}
	if a.cfg.Registration.GetLoginToken {
		flows = append(flows, map[string]any{"type": loginTypeToken, "get_login_token": true})
	}
	return httputil.OK(map[string]any{"flows": flows})
}

// login: POST /login. Password attempts are limited per client IP and
// per target user, successful or not; token attempts per client IP.
func (a *accountRoutes) login(req *http.Request) httputil.JSONResponse {
	var body loginRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	tokenLogin := body.Type == loginTypeToken && a.cfg.Registration.GetLoginToken
	if body.Type != stagePassword && body.Type != loginTypeAppservice && !tokenLogin {
		return httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "Unknown login type %q; see GET /login for the supported ones", body.Type)
	}
	if body.Type == stagePassword || tokenLogin {
		if limited := a.limits.loginIP.CheckIP(req); limited != nil {
			return *limited
		}
	}
	if body.DeviceID != "" && !validDeviceID(body.DeviceID) {
		return httputil.InvalidParam("device_id must be 1-255 bytes without spaces or control characters")
	}
	if tokenLogin {
		return a.loginWithToken(req, &body)
	}
	userID, errResp := a.identifierUserID(body.Identifier, body.User)
	if errResp != nil {
		return *errResp
	}
	if body.Type == loginTypeAppservice {
		if r := a.checkAppserviceLogin(req, userID); r != nil {
			return *r
		}
	} else {
		if limited := a.limits.loginUser.Check(req, userID); limited != nil {
			return *limited
		}
		if err := a.users.CheckPassword(req.Context(), matrixid.UserID(userID), body.Password); err != nil {
			return a.userError(err, "check password")
		}
	}
	return a.openSession(req, userID, &body)
}

// openSession logs userID in after its credentials were checked.
func (a *accountRoutes) openSession(req *http.Request, userID string, body *loginRequest) httputil.JSONResponse {
	sess, err := a.users.Login(req.Context(), uapi.LoginRequest{
		UserID: userID, DeviceID: body.DeviceID, DisplayName: body.InitialDeviceDisplayName,
		IP: httputil.ClientIP(req), UserAgent: req.UserAgent(), WantRefreshToken: body.RefreshToken,
	})
	if err != nil {
		return a.userError(err, "log in")
	}
	resp := a.sessionResponse(sess)
	resp.WellKnown = a.clientWellKnown()
	return httputil.OK(resp)
}

// loginWithToken: m.login.token. The token names the user; an
// identifier, if given as well, must be that user.
func (a *accountRoutes) loginWithToken(req *http.Request, body *loginRequest) httputil.JSONResponse {
	if body.Token == "" {
		return httputil.MissingParam("token is required for m.login.token")
	}
	if len(body.Token) > 256 {
		return httputil.Forbidden("Invalid or expired login token")
	}
	userID, err := a.users.TakeLoginToken(req.Context(), body.Token)
	if err != nil {
		return a.userError(err, "login token")
	}
	if body.Identifier != nil || body.User != "" {
		named, errResp := a.identifierUserID(body.Identifier, body.User)
		if errResp != nil {
			return *errResp
		}
		if named != string(userID) {
			return httputil.Forbidden("The login token belongs to another user")
		}
	}
	return a.openSession(req, string(userID), body)
}

// getLoginToken: POST /_matrix/client/v1/login/get_token (routed only
// with registration.get_login_token). Always asks
// for the password again (the UIA session ends with the request), so each
// token is an explicit consent to log one more client in.
func (a *accountRoutes) getLoginToken(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if dev.IsGuest {
		return httputil.GuestForbidden()
	}
	var body struct {
		Auth *uia.Auth `json:"auth"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Auth != nil {
		if limited := a.limits.loginTokenUser.Check(req, dev.UserID); limited != nil {
			return *limited
		}
	}
	session, challenge := a.uia.Authenticate(req, body.Auth, uia.PasswordOp("get_login_token", dev.UserID))
	if challenge != nil {
		return *challenge
	}
	tok, err := a.users.CreateLoginToken(req.Context(), matrixid.UserID(dev.UserID))
	if err != nil {
		return a.userError(err, "create login token")
	}
	a.uia.Finish(session)
	return httputil.OK(tok)
}

// checkAppserviceLogin: m.login.application_service logs an appservice
// in as an existing user of its namespaces, with its as_token.
func (a *accountRoutes) checkAppserviceLogin(req *http.Request, userID string) *httputil.JSONResponse {
	reg, errResp := a.appservices.appserviceCaller(req)
	if errResp != nil {
		return errResp
	}
	if !reg.OwnsUser(userID, a.cfg.ServerName) {
		return exclusive("User ID %s is outside the application service's namespaces", userID)
	}
	acc, err := a.users.QueryAccount(req.Context(), matrixid.UserID(userID))
	if err == nil && acc.Deactivated {
		err = uapi.ErrUserDeactivated
	}
	if err != nil {
		r := a.userError(err, "appservice login")
		return &r
	}
	return nil
}

// logout: POST /logout deletes the calling device and its tokens.
func (a *accountRoutes) logout(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if err := a.users.DeleteDevices(req.Context(), matrixid.UserID(dev.UserID), []string{dev.ID}); err != nil {
		return a.userError(err, "logout")
	}
	return httputil.Empty()
}

// logoutAll: POST /logout/all deletes every device of the user.
func (a *accountRoutes) logoutAll(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if err := a.users.DeleteAllDevices(req.Context(), matrixid.UserID(dev.UserID), ""); err != nil {
		return a.userError(err, "logout all")
	}
	return httputil.Empty()
}

// refresh: POST /refresh (authenticated by the refresh token alone).
func (a *accountRoutes) refresh(req *http.Request) httputil.JSONResponse {
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.RefreshToken == "" {
		return httputil.MissingParam("refresh_token is required")
	}
	sess, err := a.users.Refresh(req.Context(), body.RefreshToken)
	if err != nil {
		return a.userError(err, "refresh")
	}
	return httputil.OK(refreshResponse{AccessToken: sess.AccessToken, RefreshToken: sess.RefreshToken, ExpiresInMs: sess.ExpiresInMs})
}

type refreshResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresInMs  int64  `json:"expires_in_ms,omitempty"`
}
