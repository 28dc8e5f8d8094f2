package userapi

import (
	"context"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/userapi/api"
)

// UserAPI implements api.UserAPI and httputil.Authenticator.
type UserAPI struct {
	base *setup.Base
}

// New opens the userapi's storage.
func New(ctx context.Context, base *setup.Base) (*UserAPI, error) {
	return &UserAPI{base: base}, nil
}

// AuthenticateToken implements httputil.Authenticator.
func (u *UserAPI) AuthenticateToken(req *http.Request, token string) (*api.Device, *httputil.MatrixError) {
	return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN_TOKEN", Err: "Unknown access token"}
}

// CreateAccount is used by `axon create-account`.
func (u *UserAPI) CreateAccount(ctx context.Context, localpart, password string, admin bool) (string, error) {
	return "", nil
}

// Close stops background work.
func (u *UserAPI) Close() {}
