package mediaapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
)

// registerRoutes is the route table of the content repository.
func (m *MediaAPI) registerRoutes(base *setup.Base) {
	c := base.Client
	// Uploads stream their bodies, up to limits.max_upload_bytes (more
	// than the JSON request limit); /create has no body.
	for _, v := range []string{"v3", "r0"} {
		c.HandleRawLimit("POST /_matrix/media/"+v+"/upload", m.maxUpload, m.authed(m.uploadSync))
	}
	c.HandleRawLimit("PUT /_matrix/media/v3/upload/{serverName}/{mediaId}", m.maxUpload, m.authed(m.uploadAsync))
	c.HandleRaw("POST /_matrix/media/v1/create", m.authed(asJSON(m.create)))

	// Authenticated media (Matrix 1.11).
	c.HandleRaw("GET /_matrix/client/v1/media/config", m.authed(asJSON(m.mediaConfig)))
	c.HandleRaw("GET /_matrix/client/v1/media/download/{serverName}/{mediaId}", m.authed(m.download(true)))
	c.HandleRaw("GET /_matrix/client/v1/media/download/{serverName}/{mediaId}/{fileName}", m.authed(m.download(true)))
	c.HandleRaw("GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}", m.authed(m.thumbnail(true)))
	c.HandleRaw("GET /_matrix/client/v1/media/preview_url", m.authed(asJSON(m.previewURL)))

	// Legacy (deprecated) media: downloads without a token, subject to
	// media.freeze_legacy_after; config and previews still need one.
	legacy := []*httputil.Router{c}
	if base.Federation != nil && base.Federation != c {
		// Servers that fetch from us the pre-1.11 way come to the
		// federation listener.
		legacy = append(legacy, base.Federation)
	}
	for _, r := range legacy {
		for _, v := range []string{"v3", "r0"} {
			p := "/_matrix/media/" + v
			r.HandleRaw("GET "+p+"/download/{serverName}/{mediaId}", m.unauthed(m.download(false)))
			r.HandleRaw("GET "+p+"/download/{serverName}/{mediaId}/{fileName}", m.unauthed(m.download(false)))
			r.HandleRaw("GET "+p+"/thumbnail/{serverName}/{mediaId}", m.unauthed(m.thumbnail(false)))
		}
	}
	for _, v := range []string{"v3", "r0"} {
		c.HandleRaw("GET /_matrix/media/"+v+"/config", m.authed(asJSON(m.mediaConfig)))
		c.HandleRaw("GET /_matrix/media/"+v+"/preview_url", m.authed(asJSON(m.previewURL)))
	}

	// Federation (Matrix 1.11), X-Matrix signed.
	if m.cfg.ServeFederationMedia && m.deps.Verifier != nil && base.Federation != nil {
		base.Federation.HandleRaw("GET /_matrix/federation/v1/media/download/{mediaId}", m.federated(m.federationDownload))
		base.Federation.HandleRaw("GET /_matrix/federation/v1/media/thumbnail/{mediaId}", m.federated(m.federationThumbnail))
	}
}

// mediaHandler answers a media request; userID is "" when unauthenticated
// (or the origin server for federation requests).
type mediaHandler func(w http.ResponseWriter, req *http.Request, userID string)

// authed runs h with the user of a valid access token, checked by the
// router's RequireAuth (one place for the token rules).
func (m *MediaAPI) authed(h mediaHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		served := false
		refused := m.router.RequireAuth(func(req *http.Request, dev *httputil.Device) httputil.JSONResponse {
			served = true
			h(w, req, dev.UserID)
			return httputil.JSONResponse{}
		})(req)
		if !served {
			refused.Write(w)
		}
	})
}

// asJSON adapts a handler answering JSON.
func asJSON(h func(req *http.Request, userID string) httputil.JSONResponse) mediaHandler {
	return func(w http.ResponseWriter, req *http.Request, userID string) { h(req, userID).Write(w) }
}

func (m *MediaAPI) unauthed(h mediaHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { h(w, req, "") })
}

// mediaConfig: GET /media/config.
func (m *MediaAPI) mediaConfig(req *http.Request, _ string) httputil.JSONResponse {
	return httputil.OK(map[string]int64{"m.upload.size": m.maxUpload})
}
