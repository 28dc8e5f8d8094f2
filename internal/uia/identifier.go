package uia

import (
	"net/http"
	"strings"

	"github.com/axon-hs/axon/internal/httputil"
)

// Identifier is the spec's identifier object, used by /login and by the
// m.login.password stage.
type Identifier struct {
	Type string `json:"type"`
	User string `json:"user"`
	// m.id.thirdparty / m.id.phone (not supported: there are no 3PIDs)
	Medium  string `json:"medium"`
	Address string `json:"address"`
	Country string `json:"country"`
	Phone   string `json:"phone"`
}

// UserID resolves an identifier (or the deprecated top-level `user`
// field) to a user ID of serverName. Localparts are case-folded, since
// registration only allows lowercase. A user of another server is
// answered like a wrong password.
func UserID(serverName string, id *Identifier, legacyUser string) (string, *httputil.JSONResponse) {
	user := legacyUser
	if id != nil {
		switch id.Type {
		case "m.id.user":
			user = id.User
		case "m.id.thirdparty", "m.id.phone":
			r := httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "This server has no third-party identifiers; log in with a user ID")
			return "", &r
		default:
			r := httputil.Error(http.StatusBadRequest, "M_UNKNOWN", "Unknown identifier type %q", id.Type)
			return "", &r
		}
	}
	if user == "" {
		r := httputil.MissingParam("No user identifier given")
		return "", &r
	}
	local := user
	if strings.HasPrefix(user, "@") {
		l, server, ok := strings.Cut(user[1:], ":")
		if !ok || l == "" || server != serverName {
			r := httputil.Forbidden("Invalid username or password")
			return "", &r
		}
		local = l
	}
	return "@" + strings.ToLower(local) + ":" + serverName, nil
}
