package mediaapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/mediaapi/blob"
	"github.com/axon-hs/axon/mediaapi/storage"
)

// Waiting for an asynchronous upload: the spec's default, and our cap.
const (
	defaultWait = 20 * time.Second
	maxWait     = 2 * time.Minute
	pollPending = 500 * time.Millisecond
)

// mediaRef is the media a request names.
type mediaRef struct {
	origin, mediaID string
	wait            time.Duration
	allowRemote     bool
}

func (r mediaRef) key() string { return r.origin + "/" + r.mediaID }

// parseRef reads {serverName}/{mediaId}, timeout_ms and allow_remote.
func parseRef(req *http.Request) (mediaRef, error) {
	ref := mediaRef{origin: req.PathValue("serverName"), mediaID: req.PathValue("mediaId"), wait: defaultWait, allowRemote: true}
	if !validServerName(ref.origin) || !validMediaID(ref.mediaID) {
		return ref, invalidParam("Invalid server name or media ID")
	}
	q := req.URL.Query()
	if s := q.Get("timeout_ms"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 {
			return ref, invalidParam("timeout_ms must be a non-negative integer")
		}
		ref.wait = min(time.Duration(ms)*time.Millisecond, maxWait)
	}
	if s := q.Get("allow_remote"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return ref, invalidParam("allow_remote must be true or false")
		}
		ref.allowRemote = b
	}
	return ref, nil
}

// download: GET .../download/{serverName}/{mediaId}[/{fileName}], both
// the authenticated and the legacy form.
func (m *MediaAPI) download(authenticated bool) mediaHandler {
	return func(w http.ResponseWriter, req *http.Request, _ string) {
		ref, err := parseRef(req)
		if err != nil {
			errorResponse(m.log, err).Write(w)
			return
		}
		row, err := m.resolve(req.Context(), ref, authenticated)
		if err != nil {
			errorResponse(m.log, err).Write(w)
			return
		}
		name := row.FileName
		if n := req.PathValue("fileName"); n != "" {
			name = n
		}
		m.serveBlob(w, req, row.SHA256, row.ContentType, name, row.CreatedTS)
	}
}

// resolve finds servable media: local (waiting for a pending upload) or
// remote (from the cache, else fetched). Legacy requests see only media
// stored before the freeze.
func (m *MediaAPI) resolve(ctx context.Context, ref mediaRef, authenticated bool) (*storage.Media, error) {
	var row *storage.Media
	var err error
	frozen := !authenticated && !m.freeze.IsZero()
	if frozen {
		// Whatever would be fetched now is "new", so frozen: do not let
		// unauthenticated requests make us fetch from other servers.
		ref.allowRemote = false
	}
	if ref.origin == m.serverName {
		row, err = m.localMedia(ctx, ref)
	} else {
		row, err = m.remoteMedia(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	if row.Quarantined {
		return nil, errNotFound
	}
	if frozen && row.CreatedTS >= m.freeze.UnixMilli() {
		return nil, errNotFound // frozen: only the authenticated endpoints serve it
	}
	m.touch(row)
	return row, nil
}

// localMedia reads our own media, waiting up to ref.wait for a pending
// asynchronous upload.
func (m *MediaAPI) localMedia(ctx context.Context, ref mediaRef) (*storage.Media, error) {
	deadline := time.Now().Add(ref.wait)
	for {
		changed := m.uploaded.changed()
		row, err := m.db.Media(ctx, ref.origin, ref.mediaID)
		if errors.Is(err, istorage.ErrNotFound) {
			return nil, errNotFound
		}
		if err != nil {
			return nil, err
		}
		if !row.Pending() {
			return row, nil
		}
		if row.ExpiresTS <= time.Now().UnixMilli() {
			return nil, errNotFound
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, errNotYetUploaded
		}
		t := time.NewTimer(min(left, pollPending))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// touch records the access at most once an hour per file (no write per
// download).
func (m *MediaAPI) touch(row *storage.Media) {
	now := time.Now().UnixMilli()
	if now-row.LastAccess < time.Hour.Milliseconds() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.db.TouchMedia(ctx, row.Origin, row.MediaID, now); err != nil {
		m.log.Warn("recording media access", "error", err)
	}
}

// serveBlob streams a stored file with the media headers (ranges work).
func (m *MediaAPI) serveBlob(w http.ResponseWriter, req *http.Request, sha, contentType, fileName string, createdMS int64) {
	f, err := m.store.Open(req.Context(), sha)
	if errors.Is(err, blob.ErrNotFound) {
		m.log.Error("media file missing from the store", "sha256", sha)
		errorResponse(m.log, errNotFound).Write(w)
		return
	}
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	defer f.Close()
	setMediaHeaders(w.Header(), contentType, fileName)
	http.ServeContent(w, req, "", time.UnixMilli(createdMS), f)
}
