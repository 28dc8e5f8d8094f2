package mediaapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/mediaapi/blob"
	"github.com/axon-hs/axon/mediaapi/storage"
)

// remoteMedia returns cached remote media, fetching it on a miss. Clients
// asking for the same file at once share one fetch, which runs on its own
// deadline so one client giving up does not fail the others.
func (m *MediaAPI) remoteMedia(ctx context.Context, ref mediaRef) (*storage.Media, error) {
	row, err := m.db.Media(ctx, ref.origin, ref.mediaID)
	if err == nil && (!row.Pending() || row.Quarantined) {
		return row, nil // a quarantined placeholder: refused, never fetched
	}
	if err != nil && !errors.Is(err, istorage.ErrNotFound) {
		return nil, err
	}
	if !ref.allowRemote {
		return nil, errNotFound
	}
	if m.deps.Remote == nil {
		return nil, errNoFederation
	}
	ch := m.fetches.DoChan(ref.key(), func() (any, error) {
		fctx, cancel := context.WithTimeout(m.stopCtx, m.cfg.RemoteTimeout)
		defer cancel()
		return m.fetchRemote(fctx, ref)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*storage.Media), nil
	}
}

// fetchRemote downloads a file from its server: the authenticated
// federation endpoint, else (servers before Matrix 1.11) the legacy
// download. The file is stored and its row written.
func (m *MediaAPI) fetchRemote(ctx context.Context, ref mediaRef) (*storage.Media, error) {
	m.remoteGet.Add(1)
	row := &storage.Media{Origin: ref.origin, MediaID: ref.mediaID}
	sp, err := m.fetchFederation(ctx, ref, row)
	result := "ok"
	if errors.Is(err, errEndpointUnsupported) {
		result = "legacy"
		sp, err = m.fetchLegacy(ctx, ref, row)
	}
	if err != nil {
		result = "error"
	}
	remoteFetches.WithLabelValues(result).Inc()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, errRemoteTimeout
		}
		var me *mediaError
		if !errors.As(err, &me) {
			m.log.Warn("fetching remote media", "origin", ref.origin, "media_id", ref.mediaID, "error", err)
			return nil, errRemoteFailed
		}
		return nil, err
	}
	now := time.Now().UnixMilli()
	row.Size, row.SHA256, row.CreatedTS, row.LastAccess = sp.Size, sp.SHA256, now, now
	if err := m.commitAndRecord(ctx, sp, func() error { return m.db.UpsertRemote(ctx, row) }); err != nil {
		return nil, err
	}
	return row, nil
}

// errEndpointUnsupported: the server does not know the federation media
// endpoint (answers M_UNRECOGNIZED, 405, 501, or a 4xx other than 429
// without a Matrix errcode).
var errEndpointUnsupported = errors.New("federation media endpoint not supported")

func (m *MediaAPI) fetchFederation(ctx context.Context, ref mediaRef, row *storage.Media) (*blob.Spooled, error) {
	uri := "/_matrix/federation/v1/media/download/" + url.PathEscape(ref.mediaID) + "?timeout_ms=20000"
	resp, err := m.deps.Remote.Get(ctx, ref.origin, uri, true)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, remoteStatusError(resp, true)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); !strings.HasPrefix(mt, "multipart/") {
		// Some servers answer with the file itself, as the legacy
		// endpoint does, instead of the multipart form: take it so.
		return m.plainContent(resp, row)
	}
	var sp *blob.Spooled
	rc, err := readMediaMultipart(resp.Body, resp.Header.Get("Content-Type"), func(h textproto.MIMEHeader, r io.Reader) error {
		var err error
		sp, err = m.spool(r, m.maxUpload, errRemoteTooLarge)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rc.location != "" {
		if sp, err = m.fetchLocation(ctx, rc); err != nil {
			return nil, err
		}
	}
	row.ContentType = rc.header.Get("Content-Type")
	row.FileName = fileNameFrom(rc.header.Get("Content-Disposition"))
	return sp, nil
}

// fetchLocation follows the redirect form of a federation media response
// with the address-checked client (the URL is the remote server's choice).
func (m *MediaAPI) fetchLocation(ctx context.Context, rc *remoteContent) (*blob.Spooled, error) {
	resp, err := m.redirect.Get(ctx, rc.location)
	if err != nil {
		return nil, err
	}
	defer resp.Close()
	if rc.header.Get("Content-Type") == "" {
		rc.header.Set("Content-Type", resp.ContentType)
	}
	return m.spool(resp.Body, m.maxUpload, errRemoteTooLarge)
}

func (m *MediaAPI) fetchLegacy(ctx context.Context, ref mediaRef, row *storage.Media) (*blob.Spooled, error) {
	uri := "/_matrix/media/v3/download/" + url.PathEscape(ref.origin) + "/" + url.PathEscape(ref.mediaID) + "?allow_remote=false&allow_redirect=false&timeout_ms=20000"
	resp, err := m.deps.Remote.Get(ctx, ref.origin, uri, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, remoteStatusError(resp, false)
	}
	return m.plainContent(resp, row)
}

// plainContent reads a response whose body is the file, typed by its
// Content-Type and named by its Content-Disposition.
func (m *MediaAPI) plainContent(resp *http.Response, row *storage.Media) (*blob.Spooled, error) {
	if resp.ContentLength > m.maxUpload {
		return nil, errRemoteTooLarge
	}
	row.ContentType = resp.Header.Get("Content-Type")
	row.FileName = fileNameFrom(resp.Header.Get("Content-Disposition"))
	return m.spool(resp.Body, m.maxUpload, errRemoteTooLarge)
}

// remoteStatusError turns a remote non-200 into our error; on the new
// endpoint, "unknown endpoint" answers mean: try the legacy one.
func remoteStatusError(resp *http.Response, newEndpoint bool) error {
	var body struct {
		ErrCode string `json:"errcode"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body)
	switch {
	case newEndpoint && (body.ErrCode == "M_UNRECOGNIZED" || resp.StatusCode == http.StatusMethodNotAllowed ||
		resp.StatusCode == http.StatusNotImplemented || (body.ErrCode == "" && resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusTooManyRequests)):
		// A client error that is no Matrix error is no answer of the
		// endpoint either (a server or proxy that does not know it).
		return errEndpointUnsupported
	case resp.StatusCode == http.StatusNotFound:
		return errNotFound
	case body.ErrCode == "M_NOT_YET_UPLOADED":
		return errNotYetUploaded
	case body.ErrCode == "M_TOO_LARGE":
		return errRemoteTooLarge
	}
	return fmt.Errorf("remote answered HTTP %d %s", resp.StatusCode, body.ErrCode)
}
