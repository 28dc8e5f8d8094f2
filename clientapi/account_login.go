package clientapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// loginRequest is the body of POST /login.
type loginRequest struct {
	Type       string           `json:"type"`
	Identifier *loginIdentifier `json:"identifier"`
	// User is the deprecated form of identifier.
	User                     string `json:"user"`
	Password                 string `json:"password"`
	DeviceID                 string `json:"device_id"`
	InitialDeviceDisplayName string `json:"initial_device_display_name"`
	RefreshToken             bool   `json:"refresh_token"`
}

// loginFlows: GET /login.
func (a *accountRoutes) loginFlows(req *http.Request) httputil.JSONResponse {
	return httputil.OK(map[string]any{"flows": []map[string]string{{"type": stagePassword}, {"type": loginTypeAppservice}}})
}

// login: POST /login. Attempts are limited per client IP and per target
// user, successful or not.
func (a *accountRoutes) login(req *http.Request) httputil.JSONResponse {
	var body loginRequest
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Type != stagePassword && body.Type != loginTypeAppservice {
		return httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "Unknown login type %q; this server supports %s and %s", body.Type, stagePassword, loginTypeAppservice)
	}
	if body.Type == stagePassword {
		if limited := a.limits.loginIP.CheckIP(req); limited != nil {
			return *limited
		}
	}
	userID, errResp := a.identifierUserID(body.Identifier, body.User)
	if errResp != nil {
		return *errResp
	}
	if body.DeviceID != "" && !validDeviceID(body.DeviceID) {
		return httputil.InvalidParam("device_id must be 1-255 bytes without spaces or control characters")
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
