package adminapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// maxPasswordBytes bounds a password set by an admin (bcrypt reads 72).
const maxPasswordBytes = 512

// getUser: GET /_synapse/admin/v2/users/{userId}.
func (a *AdminAPI) getUser(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	u, err := a.loadUser(req.Context(), userID)
	if err != nil {
		return a.fail(err, "get user")
	}
	return httputil.OK(u)
}

// putUserRequest is the body of PUT /v2/users/{userId}; absent fields
// are left as they are.
type putUserRequest struct {
	Password      *string `json:"password"`
	LogoutDevices *bool   `json:"logout_devices"`
	DisplayName   *string `json:"displayname"`
	AvatarURL     *string `json:"avatar_url"`
	Admin         *bool   `json:"admin"`
	Deactivated   *bool   `json:"deactivated"`
	Threepids     []any   `json:"threepids"`
	ExternalIDs   []any   `json:"external_ids"`
	UserType      *string `json:"user_type"`
}

// putUser: PUT /_synapse/admin/v2/users/{userId} creates (201) or
// modifies (200) an account.
func (a *AdminAPI) putUser(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	var body putUserRequest
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	if len(body.Threepids) > 0 || len(body.ExternalIDs) > 0 {
		return httputil.InvalidParam("Axon does not store third-party IDs or external IDs")
	}
	if body.UserType != nil {
		return httputil.InvalidParam("user_type is not supported")
	}
	if body.Password != nil && (*body.Password == "" || len(*body.Password) > maxPasswordBytes) {
		return httputil.InvalidParam("password must be 1-%d bytes", maxPasswordBytes)
	}
	if body.Deactivated != nil && *body.Deactivated && userID == admin.UserID {
		return httputil.InvalidParam("You cannot deactivate yourself")
	}
	ctx := req.Context()
	acc, err := a.users.QueryAccount(ctx, matrixid.UserID(userID))
	created := false
	switch {
	case errors.Is(err, uapi.ErrNotFound):
		if body.Deactivated != nil && *body.Deactivated {
			return httputil.InvalidParam("A new account cannot be deactivated")
		}
		if err := a.createUser(ctx, userID, &body); err != nil {
			return a.fail(err, "create user")
		}
		created = true
	case err != nil:
		return a.fail(err, "query user")
	default:
		if err := a.modifyUser(ctx, acc, &body); err != nil {
			return a.fail(err, "modify user")
		}
	}
	if body.DisplayName != nil {
		if err := a.setProfileString(ctx, userID, "displayname", *body.DisplayName); err != nil {
			return a.fail(err, "set display name")
		}
	}
	if body.AvatarURL != nil {
		if err := a.setProfileString(ctx, userID, "avatar_url", *body.AvatarURL); err != nil {
			return a.fail(err, "set avatar")
		}
	}
	u, err := a.loadUser(ctx, userID)
	if err != nil {
		return a.fail(err, "get user")
	}
	if created {
		return httputil.JSONResponse{Code: http.StatusCreated, JSON: u}
	}
	return httputil.OK(u)
}

// createUser registers a new account. Without a password it gets a
// random one nobody knows: the user cannot log in with a password.
func (a *AdminAPI) createUser(ctx context.Context, userID string, body *putUserRequest) error {
	password := ""
	if body.Password != nil {
		password = *body.Password
	} else {
		password = randomString(32)
	}
	localpart := strings.TrimPrefix(userID[:strings.IndexByte(userID, ':')], "@")
	_, err := a.users.CreateAccount(ctx, localpart, password, body.Admin != nil && *body.Admin)
	return err
}

// modifyUser applies password, admin and (de/re)activation changes.
func (a *AdminAPI) modifyUser(ctx context.Context, acc *uapi.Account, body *putUserRequest) error {
	switch {
	case body.Deactivated != nil && *body.Deactivated && !acc.Deactivated:
		if err := a.deactivate(ctx, acc.UserID, false); err != nil {
			return err
		}
	case body.Deactivated != nil && !*body.Deactivated && acc.Deactivated:
		if body.Password == nil {
			return errMissingPassword
		}
		if err := a.users.ReactivateAccount(ctx, acc.UserID, *body.Password); err != nil {
			return err
		}
	case body.Password != nil && !acc.Deactivated:
		logout := body.LogoutDevices == nil || *body.LogoutDevices
		if err := a.users.SetPassword(ctx, matrixid.UserID(acc.UserID), *body.Password, logout, ""); err != nil {
			return err
		}
	}
	if body.Admin != nil && *body.Admin != acc.IsAdmin {
		return a.users.SetAdmin(ctx, acc.UserID, *body.Admin)
	}
	return nil
}

// errMissingPassword: reactivation needs a password.
var errMissingPassword = requestError{http.StatusBadRequest, "M_MISSING_PARAM", "A password is required to reactivate an account"}

// deactivate makes the user leave every room it is in or invited to,
// then deactivates the account (devices, tokens and profile go).
func (a *AdminAPI) deactivate(ctx context.Context, userID string, erase bool) error {
	for _, membership := range []string{"join", "invite", "knock"} {
		rooms, err := a.rooms.QueryRoomsForUser(ctx, matrixid.UserID(userID), membership)
		if err != nil {
			return err
		}
		for _, roomID := range rooms {
			if err := a.leave(ctx, userID, string(roomID)); err != nil {
				// A room this server cannot send into (e.g. no longer
				// resident) must not keep the account active.
				a.log.Warn("deactivate: leave room", "user", userID, "room", roomID, "error", err)
			}
		}
	}
	return a.users.DeactivateAccount(ctx, matrixid.UserID(userID), erase)
}

// leave sends userID's own leave event into roomID.
func (a *AdminAPI) leave(ctx context.Context, userID, roomID string) error {
	_, err := a.send(ctx, &rsapi.LocalEvent{RoomID: matrixid.RoomID(roomID), Sender: matrixid.UserID(userID), Type: spec.MRoomMember, StateKey: &userID,
		Content: json.RawMessage(`{"membership":"leave"}`)})
	return err
}

// deactivateUser: POST /_synapse/admin/v1/deactivate/{userId} {erase}.
// The account's profile is removed in every case; with erase the user's
// past messages are served redacted from then on (docs/admin-api.md).
func (a *AdminAPI) deactivateUser(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	var body struct {
		Erase bool `json:"erase"`
	}
	if req.ContentLength != 0 {
		if e := httputil.DecodeJSON(req, &body); e != nil {
			return *e
		}
	}
	if userID == admin.UserID {
		return httputil.InvalidParam("You cannot deactivate yourself")
	}
	if _, err := a.users.QueryAccount(req.Context(), matrixid.UserID(userID)); err != nil {
		return a.fail(err, "query user")
	}
	if err := a.deactivate(req.Context(), userID, body.Erase); err != nil {
		return a.fail(err, "deactivate user")
	}
	return httputil.OK(map[string]string{"id_server_unbind_result": "success"})
}

// resetPassword: POST /_synapse/admin/v1/reset_password/{userId}
// {new_password, logout_devices (default true)}.
func (a *AdminAPI) resetPassword(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	var body struct {
		NewPassword   string `json:"new_password"`
		LogoutDevices *bool  `json:"logout_devices"`
	}
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	if body.NewPassword == "" || len(body.NewPassword) > maxPasswordBytes {
		return httputil.MissingParam("new_password must be 1-%d bytes", maxPasswordBytes)
	}
	logout := body.LogoutDevices == nil || *body.LogoutDevices
	if err := a.users.SetPassword(req.Context(), matrixid.UserID(userID), body.NewPassword, logout, ""); err != nil {
		return a.fail(err, "reset password")
	}
	return httputil.Empty()
}

// getAdmin: GET /_synapse/admin/v1/users/{userId}/admin.
func (a *AdminAPI) getAdmin(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	acc, e := a.existingUser(req)
	if e != nil {
		return *e
	}
	return httputil.OK(map[string]bool{"admin": acc.IsAdmin})
}

// putAdmin: PUT /_synapse/admin/v1/users/{userId}/admin {admin}.
func (a *AdminAPI) putAdmin(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	var body struct {
		Admin *bool `json:"admin"`
	}
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	if body.Admin == nil {
		return httputil.MissingParam("admin is required")
	}
	if userID == admin.UserID && !*body.Admin {
		return httputil.InvalidParam("You cannot demote yourself")
	}
	if err := a.users.SetAdmin(req.Context(), userID, *body.Admin); err != nil {
		return a.fail(err, "set admin")
	}
	return httputil.Empty()
}

// loginAsUser: POST /_synapse/admin/v1/users/{userId}/login gives the
// admin an access token of a new device of the user (for support).
func (a *AdminAPI) loginAsUser(req *http.Request, admin *httputil.Device) httputil.JSONResponse {
	acc, e := a.existingUser(req)
	if e != nil {
		return *e
	}
	userID := acc.UserID
	if userID == admin.UserID {
		return httputil.InvalidParam("Cannot use the admin API to log in as yourself")
	}
	if acc.Deactivated {
		return a.fail(uapi.ErrUserDeactivated, "login as user")
	}
	sess, err := a.users.Login(req.Context(), uapi.LoginRequest{
		UserID: userID, DisplayName: "Admin login by " + admin.UserID,
		IP: httputil.ClientIP(req), UserAgent: req.UserAgent(),
	})
	if err != nil {
		return a.fail(err, "login as user")
	}
	return httputil.OK(map[string]string{"access_token": sess.AccessToken, "device_id": sess.DeviceID})
}

// randomString is n random URL-safe characters.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
