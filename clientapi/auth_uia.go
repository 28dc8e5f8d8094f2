package clientapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/uia"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// User-Interactive Authentication for the account routes: the generic
// part (sessions, flows, the password stage) is internal/uia; this adds
// the registration token stage and the per-user login rate limit.

const (
	stageDummy             = uia.StageDummy
	stagePassword          = uia.StagePassword
	stageRegistrationToken = uia.StageRegistrationToken
)

// newUIA runs UIA with sessions in store (nil: this process's memory).
func (a *accountRoutes) newUIA(store uia.Store) *uia.Authenticator {
	return uia.New(uia.Config{
		ServerName: a.cfg.ServerName,
		Passwords:  a.users,
		Rejected:   uapi.IsRejectedCredentials,
		RateLimit:  a.limits.loginUser.Check,
		Stages:     map[string]uia.StageFunc{stageRegistrationToken: a.registrationTokenStage},
		Log:        a.log,
		Store:      store,
	})
}

// registrationTokenStage spends one use of the token (the use is counted
// when the stage passes, atomically, so concurrent registrations cannot
// overspend a token).
func (a *accountRoutes) registrationTokenStage(req *http.Request, auth *uia.Auth, _ uia.Op) (string, *httputil.JSONResponse) {
	if auth.Token == "" || len(auth.Token) > maxRegistrationTokenLen {
		return "Invalid registration token", nil
	}
	ok, err := a.users.UseRegistrationToken(req.Context(), auth.Token)
	if err != nil {
		resp := a.userError(err, "use registration token")
		return "", &resp
	}
	if !ok {
		return "Invalid registration token", nil
	}
	return "", nil
}

// maxRegistrationTokenLen bounds a token (the spec allows 64 characters).
const maxRegistrationTokenLen = 64
