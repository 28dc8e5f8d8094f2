package appservice

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// AccountQuerier is what appservice authentication needs of the userapi.
type AccountQuerier interface {
	QueryAccount(ctx context.Context, userID string) (*uapi.Account, error)
	QueryDevice(ctx context.Context, userID, deviceID string) (*uapi.DeviceInfo, error)
}

// Authenticator lets an appservice's as_token act as its users
// ("identity assertion"): as sender_localpart, or as ?user_id= in its
// namespaces, optionally on one of that user's devices (?device_id=,
// MSC3202's org.matrix.msc3202.device_id). Other tokens go to Next.
type Authenticator struct {
	Cfg   *config.Config
	Next  httputil.Authenticator
	Users AccountQuerier
}

// AuthenticateToken implements httputil.Authenticator.
func (a *Authenticator) AuthenticateToken(req *http.Request, token string) (*uapi.Device, *httputil.MatrixError) {
	reg := a.Cfg.AppServiceByToken(token)
	if reg == nil {
		return a.Next.AuthenticateToken(req, token)
	}
	q := req.URL.Query()
	sender := reg.SenderUserID(a.Cfg.ServerName)
	userID := q.Get("user_id")
	if userID == "" {
		userID = sender
	}
	if userID != sender {
		if !strings.HasSuffix(userID, ":"+a.Cfg.ServerName) || !reg.InUserNamespace(userID) {
			return nil, &httputil.MatrixError{ErrCode: "M_EXCLUSIVE", Err: "Application service cannot masquerade as " + userID + ": not in its namespaces"}
		}
		acc, err := a.Users.QueryAccount(req.Context(), userID)
		switch {
		case errors.Is(err, uapi.ErrNotFound), err == nil && acc.Deactivated:
			return nil, &httputil.MatrixError{ErrCode: "M_FORBIDDEN", Err: "Application service has not registered " + userID}
		case err != nil:
			return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN", Err: "Could not check the user; try again"}
		}
	}
	dev := &uapi.Device{
		UserID: userID, AppserviceID: reg.ID,
		// The sender is never limited; its users only if the registration says so.
		RateLimitExempt: userID == sender || !reg.IsRateLimited(),
	}
	deviceID := q.Get("device_id")
	if deviceID == "" {
		deviceID = q.Get("org.matrix.msc3202.device_id")
	}
	if deviceID != "" {
		_, err := a.Users.QueryDevice(req.Context(), userID, deviceID)
		switch {
		case errors.Is(err, uapi.ErrNotFound):
			return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN_DEVICE", Err: "Device " + deviceID + " does not belong to " + userID}
		case err != nil:
			return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN", Err: "Could not check the device; try again"}
		}
		dev.ID = deviceID
	}
	return dev, nil
}
