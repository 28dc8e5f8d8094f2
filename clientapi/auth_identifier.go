package clientapi

import (
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/uia"
)

// loginIdentifier is the spec's identifier object, used by /login and by
// the m.login.password UIA stage.
type loginIdentifier = uia.Identifier

// identifierUserID resolves an identifier (or the deprecated top-level
// `user` field) to a local user ID.
func (a *accountRoutes) identifierUserID(id *loginIdentifier, legacyUser string) (string, *httputil.JSONResponse) {
	return uia.UserID(a.cfg.ServerName, id, legacyUser)
}
