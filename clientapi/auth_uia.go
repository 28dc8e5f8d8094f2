package clientapi

import (
	"crypto/subtle"
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

func (a *accountRoutes) newUIA() *uia.Authenticator {
	return uia.New(uia.Config{
		ServerName: a.cfg.ServerName,
		Passwords:  a.users,
		Rejected:   uapi.IsRejectedCredentials,
		RateLimit:  a.limits.loginUser.Check,
		Stages:     map[string]uia.StageFunc{stageRegistrationToken: a.registrationTokenStage},
		Log:        a.log,
	})
}

func (a *accountRoutes) registrationTokenStage(_ *http.Request, auth *uia.Auth, _ uia.Op) (string, *httputil.JSONResponse) {
	if !a.validRegistrationToken(auth.Token) {
		return "Invalid registration token", nil
	}
	return "", nil
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
