package clientapi

import (
	"log/slog"
	"strings"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/uia"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// accountRoutes holds what the account handlers share. It lives as long
// as the ClientAPI (one per server, so tests may run several).
type accountRoutes struct {
	cfg    *config.Config
	log    *slog.Logger
	users  uapi.UserAPI
	uia    *uia.Authenticator
	nonces *nonceStore
	limits rateLimits
	// rooms, when set, carries profile changes and deactivation into
	// the user's rooms.
	rooms *accountRooms
	// remote answers profile reads of other servers' users; nil when
	// federation is off.
	remote *remoteProfileCache
	// appservices: exclusive namespaces and user queries.
	appservices *appservices
}

func newAccountRoutes(base *setup.Base, users uapi.UserAPI) *accountRoutes {
	a := &accountRoutes{
		cfg:    base.Cfg,
		log:    base.Log,
		users:  users,
		nonces: newNonceStore(),
		limits: newRateLimits(base.Cfg.RateLimits),
		// Replaced by the ClientAPI's (shared with the room routes).
		appservices: &appservices{cfg: base.Cfg},
	}
	a.uia = a.newUIA(base.UIASessions())
	return a
}

// parseUserID checks the shape "@localpart:server" of a user ID in a path.
func parseUserID(userID string) (localpart, server string, ok bool) {
	if !strings.HasPrefix(userID, "@") {
		return "", "", false
	}
	localpart, server, ok = strings.Cut(userID[1:], ":")
	return localpart, server, ok && localpart != "" && server != ""
}

// validDeviceID accepts client-chosen device IDs of 1-255 bytes without
// control characters or whitespace.
func validDeviceID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// canonicalUsername is the localpart a requested username registers as:
// user IDs are lowercase, and clients (and other servers) send names as
// people type them, so "Alice" registers @alice rather than failing.
// The shared-secret MAC is still checked over the name as sent.
func canonicalUsername(name string) string { return strings.ToLower(name) }
