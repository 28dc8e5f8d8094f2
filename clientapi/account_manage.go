package clientapi

import (
	"net/http"
	"unicode/utf8"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/uia"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// whoami: GET /account/whoami.
func (a *accountRoutes) whoami(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	return httputil.OK(map[string]any{"user_id": dev.UserID, "device_id": dev.ID, "is_guest": dev.IsGuest})
}

// changePassword: POST /account/password. Unless logout_devices is false,
// every other device is logged out.
func (a *accountRoutes) changePassword(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if dev.IsGuest {
		return httputil.GuestForbidden()
	}
	var body struct {
		Auth          *uia.Auth `json:"auth"`
		NewPassword   string    `json:"new_password"`
		LogoutDevices *bool     `json:"logout_devices"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	session, challenge := a.uia.Authenticate(req, body.Auth, uia.PasswordOp("password", dev.UserID))
	if challenge != nil {
		return *challenge
	}
	if body.NewPassword == "" {
		return httputil.MissingParam("new_password is required")
	}
	if utf8.RuneCountInString(body.NewPassword) < a.cfg.Registration.MinPasswordLen {
		return weakPassword(a.cfg.Registration.MinPasswordLen)
	}
	logout := body.LogoutDevices == nil || *body.LogoutDevices
	if err := a.users.SetPassword(req.Context(), matrixid.UserID(dev.UserID), body.NewPassword, logout, dev.ID); err != nil {
		return a.userError(err, "change password")
	}
	a.uia.Finish(session)
	return httputil.Empty()
}

// deactivate: POST /account/deactivate.
func (a *accountRoutes) deactivate(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if dev.IsGuest {
		return httputil.GuestForbidden()
	}
	var body struct {
		Auth  *uia.Auth `json:"auth"`
		Erase bool      `json:"erase"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	session, challenge := a.uia.Authenticate(req, body.Auth, uia.PasswordOp("deactivate", dev.UserID))
	if challenge != nil {
		return *challenge
	}
	if err := a.users.DeactivateAccount(req.Context(), matrixid.UserID(dev.UserID), body.Erase); err != nil {
		return a.userError(err, "deactivate")
	}
	a.uia.Finish(session)
	// After deactivating (its tokens are gone, so it cannot rejoin
	// meanwhile), the account leaves every room.
	a.rooms.leaveAll(req.Context(), dev.UserID)
	// No identity servers are ever bound.
	return httputil.OK(map[string]string{"id_server_unbind_result": "no-support"})
}
