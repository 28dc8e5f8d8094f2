package appservice

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// AccountQuerier is what appservice authentication needs of the userapi.
type AccountQuerier interface {
	QueryAccount(ctx context.Context, userID matrixid.UserID) (*uapi.Account, error)
	QueryDevice(ctx context.Context, userID matrixid.UserID, deviceID string) (*uapi.DeviceInfo, error)
}

// Authenticator lets an appservice's as_token act as its users
// ("identity assertion"): as sender_localpart, or as ?user_id= in its
// namespaces, optionally on one of that user's devices (?device_id=,
// MSC3202's org.matrix.msc3202.device_id). Other tokens go to Next.
type Authenticator struct {
	Cfg   *config.Config
	Next  httputil.Authenticator
	Users AccountQuerier

	// known remembers users found registered, so a bridge's stream of
	// requests as its ghosts costs one account lookup per ghost per
	// knownFor (a deactivated ghost may act that much longer).
	mu    sync.Mutex
	known map[string]time.Time
}

const (
	knownFor = 30 * time.Second
	maxKnown = 10_000
)

// registered says whether userID is an active account, from memory when
// it was seen recently.
func (a *Authenticator) registered(ctx context.Context, userID string) (bool, error) {
	now := time.Now()
	a.mu.Lock()
	seen, ok := a.known[userID]
	a.mu.Unlock()
	if ok && now.Sub(seen) < knownFor {
		return true, nil
	}
	acc, err := a.Users.QueryAccount(ctx, matrixid.UserID(userID))
	if errors.Is(err, uapi.ErrNotFound) || (err == nil && acc.Deactivated) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.known == nil || len(a.known) >= maxKnown {
		a.known = map[string]time.Time{} // simple bound: start over
	}
	a.known[userID] = now
	return true, nil
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
		ok, err := a.registered(req.Context(), userID)
		switch {
		case err != nil:
			return nil, &httputil.MatrixError{ErrCode: "M_UNKNOWN", Err: "Could not check the user; try again"}
		case !ok:
			return nil, &httputil.MatrixError{ErrCode: "M_FORBIDDEN", Err: "Application service has not registered " + userID}
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
		_, err := a.Users.QueryDevice(req.Context(), matrixid.UserID(userID), deviceID)
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
