package clientapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixrules"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// specVersions are the Client-Server API versions served.
var specVersions = []string{
	"r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1",
	"v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12",
}

// versions: GET /_matrix/client/versions.
func (a *accountRoutes) versions(req *http.Request) httputil.JSONResponse {
	return httputil.OK(map[string]any{
		"versions": specVersions,
		"unstable_features": map[string]bool{
			"org.matrix.simplified_msc3575": true,
			"im.nheko.summary":              true, // MSC3266 room summary, also on its unstable paths
			"org.matrix.msc4222":            true, // /sync use_state_after (v1.16), also its unstable name
			"org.matrix.msc3874":            true, // rel_types / not_rel_types in room event filters
		},
	})
}

// wellKnownClient: GET /.well-known/matrix/client, from public_base_url.
func (a *accountRoutes) wellKnownClient(req *http.Request) httputil.JSONResponse {
	wk := a.clientWellKnown()
	if wk == nil {
		return httputil.NotFound("No client well-known is configured (public_base_url)")
	}
	return httputil.OK(wk)
}

// wellKnownServer: GET /.well-known/matrix/server, from well_known_server.
func (a *accountRoutes) wellKnownServer(req *http.Request) httputil.JSONResponse {
	if a.cfg.WellKnownServer == "" {
		return httputil.NotFound("No server well-known is configured (well_known_server)")
	}
	return httputil.OK(map[string]string{"m.server": a.cfg.WellKnownServer})
}

// capabilities: GET /capabilities.
func (a *accountRoutes) capabilities(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	enabled := func(b bool) map[string]bool { return map[string]bool{"enabled": b} }
	return httputil.OK(map[string]any{"capabilities": map[string]any{
		"m.change_password": enabled(!dev.IsGuest),
		"m.room_versions":   map[string]any{"default": a.cfg.Rooms.DefaultVersion, "available": matrixrules.VersionStability()},
		"m.set_displayname": enabled(true),
		"m.set_avatar_url":  enabled(!dev.IsGuest),
		"m.3pid_changes":    enabled(false),
		"m.get_login_token": enabled(a.cfg.Registration.GetLoginToken && !dev.IsGuest),
		"m.profile_fields":  enabled(!dev.IsGuest),
	}})
}
