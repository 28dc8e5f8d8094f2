package clientapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// loginTypeAppservice is the login and registration type of appservices.
const loginTypeAppservice = "m.login.application_service"

// AppserviceQuerier asks appservices about users and aliases that do not
// exist yet (appservice/api.AppserviceAPI).
type AppserviceQuerier interface {
	QueryUserID(ctx context.Context, userID string) (bool, error)
	QueryRoomAlias(ctx context.Context, alias string) (bool, error)
}

// appservices applies the registrations' namespaces to client requests:
// exclusive namespaces, and asking a bridge for what it may create.
type appservices struct {
	cfg *config.Config
	q   AppserviceQuerier
}

func exclusive(format string, args ...any) *httputil.JSONResponse {
	r := httputil.Error(http.StatusBadRequest, "M_EXCLUSIVE", format, args...)
	return &r
}

// checkUserNamespace: a user ID in an exclusive namespace is only for
// its appservice (appserviceID "" is a normal client).
func (s *appservices) checkUserNamespace(userID, appserviceID string) *httputil.JSONResponse {
	if owner := s.cfg.ExclusiveUserOwner(userID); owner != nil && owner.ID != appserviceID {
		return exclusive("User ID %s is reserved by an application service", userID)
	}
	return nil
}

// checkAlias: who may create or delete alias. An appservice only in its
// own alias namespaces; anyone else not in exclusive ones.
func (s *appservices) checkAlias(dev *uapi.Device, alias string) *httputil.JSONResponse {
	if dev.AppserviceID != "" {
		if reg := s.cfg.AppServiceByID(dev.AppserviceID); reg != nil && !reg.InAliasNamespace(alias) {
			return exclusive("Alias %s is outside the application service's namespaces", alias)
		}
		return nil
	}
	if s.cfg.ExclusiveAliasOwner(alias) != nil {
		return exclusive("Alias %s is reserved by an application service", alias)
	}
	return nil
}

// askForUser asks the appservices about a local user that does not
// exist: true when one created it.
func (s *appservices) askForUser(ctx context.Context, userID string) bool {
	if s.q == nil || !s.cfg.AppServiceMayCreateUser(userID) {
		return false
	}
	ok, err := s.q.QueryUserID(ctx, userID)
	return err == nil && ok
}

// askForAlias asks the appservices about a local alias that does not
// exist: true when one created it.
func (s *appservices) askForAlias(ctx context.Context, alias string) bool {
	if s.q == nil || !s.cfg.AppServiceMayCreateAlias(alias) {
		return false
	}
	ok, err := s.q.QueryRoomAlias(ctx, alias)
	return err == nil && ok
}

// massagedTS is the ?ts= an appservice may give send and state requests
// (timestamp massaging: the time the message was sent on the bridged
// network), or the zero time (now). Others' ts is ignored.
func massagedTS(req *http.Request, dev *uapi.Device) (time.Time, *httputil.JSONResponse) {
	raw := req.URL.Query().Get("ts")
	if raw == "" || dev.AppserviceID == "" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ms < 0 || ms > maxTimestampMS {
		r := httputil.InvalidParam("ts must be a timestamp in milliseconds")
		return time.Time{}, &r
	}
	return time.UnixMilli(ms), nil
}

// maxTimestampMS is the largest origin_server_ts (canonical JSON integers
// are at most 2^53-1).
const maxTimestampMS = 1<<53 - 1

// appserviceCaller is the registration whose as_token authenticates req
// (an m.login.application_service /register or /login), or the error
// to answer.
func (s *appservices) appserviceCaller(req *http.Request) (*config.AppService, *httputil.JSONResponse) {
	token, ok := httputil.AccessToken(req)
	if !ok {
		r := httputil.Error(http.StatusUnauthorized, "M_MISSING_TOKEN", "The application service's as_token is required")
		return nil, &r
	}
	reg := s.cfg.AppServiceByToken(token)
	if reg == nil {
		r := httputil.Error(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Unknown application service token")
		return nil, &r
	}
	return reg, nil
}
