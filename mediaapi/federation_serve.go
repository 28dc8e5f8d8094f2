package mediaapi

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
)

// federationVerifyTimeout bounds checking a request's signature (which may
// fetch the origin's keys).
const federationVerifyTimeout = 30 * time.Second

// federated runs h for a request whose X-Matrix signature checks out
// (verified by federationapi), with the origin server's name.
func (m *MediaAPI) federated(h mediaHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), federationVerifyTimeout)
		defer cancel()
		origin, err := m.deps.Verifier.VerifyRequest(ctx, &fedapi.SignedRequest{
			Method: req.Method, RequestURI: req.URL.RequestURI(), Authorization: req.Header.Values("Authorization")})
		if err != nil {
			var fe *fedapi.Error
			if errors.As(err, &fe) {
				httputil.Error(fe.Status, fe.Code, "%s", fe.Message).Write(w)
				return
			}
			m.log.Error("verifying federation media request", "error", err)
			httputil.InternalError().Write(w)
			return
		}
		h(w, req, origin)
	})
}

// federationRef is the local media a federation request names.
func (m *MediaAPI) federationRef(req *http.Request) (mediaRef, error) {
	req.SetPathValue("serverName", m.serverName)
	ref, err := parseRef(req)
	ref.allowRemote = false // never proxy on behalf of another server
	return ref, err
}

// federationDownload: GET /_matrix/federation/v1/media/download/{mediaId}.
func (m *MediaAPI) federationDownload(w http.ResponseWriter, req *http.Request, _ string) {
	ref, err := m.federationRef(req)
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	row, err := m.resolve(req.Context(), ref, true)
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	m.serveMultipart(w, req, row.SHA256, row.ContentType, row.FileName)
}

// federationThumbnail: GET /_matrix/federation/v1/media/thumbnail/{mediaId}.
func (m *MediaAPI) federationThumbnail(w http.ResponseWriter, req *http.Request, _ string) {
	ref, err := m.federationRef(req)
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	served, err := m.thumbnailOf(req, ref, true)
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	m.serveMultipart(w, req, served.sha, served.contentType, served.fileName)
}

// serveMultipart writes the federation form: a JSON metadata part ({}),
// then the content with its type and disposition.
func (m *MediaAPI) serveMultipart(w http.ResponseWriter, req *http.Request, sha, contentType, fileName string) {
	f, err := m.store.Open(req.Context(), sha)
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	defer f.Close()
	mw := multipart.NewWriter(w)
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	w.WriteHeader(http.StatusOK)
	meta, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
	if err == nil {
		_, err = meta.Write([]byte("{}"))
	}
	if err != nil {
		return // the connection is gone
	}
	ct := servedContentType(contentType)
	part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ct}, "Content-Disposition": {disposition(ct, fileName)}})
	if err != nil {
		return
	}
	if _, err := io.Copy(part, f); err != nil {
		m.log.Debug("federation media response cut", "error", err)
		return
	}
	_ = mw.Close()
}
