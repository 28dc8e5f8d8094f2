package mediaapi

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/mediaapi/storage"
)

// create: POST /_matrix/media/v1/create — an mxc:// URI now, the content
// later (PUT /upload/{serverName}/{mediaId}) before unused_expires_at.
func (m *MediaAPI) create(req *http.Request, userID string) httputil.JSONResponse {
	if limited := m.uploads.Check(req, userID); limited != nil {
		return *limited
	}
	now := time.Now()
	n, err := m.db.CountPending(req.Context(), userID, now.UnixMilli())
	if err != nil {
		return errorResponse(m.log, err)
	}
	if n >= m.cfg.MaxPendingUploads {
		return errorResponse(m.log, errTooManyPending)
	}
	expires := now.Add(m.cfg.UnusedExpiry).UnixMilli()
	row := &storage.Media{Origin: m.serverName, MediaID: newMediaID(), Uploader: userID,
		CreatedTS: now.UnixMilli(), ExpiresTS: expires, LastAccess: now.UnixMilli()}
	if err := m.db.InsertMedia(req.Context(), row); err != nil {
		return errorResponse(m.log, err)
	}
	return httputil.OK(map[string]any{"content_uri": "mxc://" + m.serverName + "/" + row.MediaID, "unused_expires_at": expires})
}

// uploadAsync: PUT /_matrix/media/v3/upload/{serverName}/{mediaId}.
func (m *MediaAPI) uploadAsync(w http.ResponseWriter, req *http.Request, userID string) {
	fail := func(err error) { errorResponse(m.log, err).Write(w) }
	serverName, mediaID := req.PathValue("serverName"), req.PathValue("mediaId")
	if serverName != m.serverName || !validMediaID(mediaID) {
		fail(errNotFound)
		return
	}
	if limited := m.uploads.Check(req, userID); limited != nil {
		limited.Write(w)
		return
	}
	// Check before reading the body, so a refused upload costs nothing.
	row, err := m.db.Media(req.Context(), serverName, mediaID)
	switch {
	case errors.Is(err, istorage.ErrNotFound):
		fail(errNotFound)
		return
	case err != nil:
		fail(err)
		return
	case row.Uploader != userID:
		fail(errNotUploader)
		return
	case !row.Pending():
		fail(errCannotOverwrite)
		return
	case row.ExpiresTS <= time.Now().UnixMilli():
		fail(errNotFound)
		return
	}
	params, err := parseUploadParams(req)
	if err != nil {
		fail(err)
		return
	}
	sp, err := m.spoolBody(req)
	if err != nil {
		fail(err)
		return
	}
	row.ContentType, row.FileName, row.Size, row.SHA256 = params.contentType, params.fileName, sp.Size, sp.SHA256
	var ok bool
	err = m.commitAndRecord(req.Context(), sp, func() (err error) {
		ok, err = m.db.CompletePending(req.Context(), row, time.Now().UnixMilli())
		return err
	})
	if err != nil {
		fail(err)
		return
	}
	if !ok { // another PUT won the race, or it just expired
		fail(errCannotOverwrite)
		return
	}
	m.uploaded.notify()
	m.afterUpload(row)
	httputil.Empty().Write(w)
}

// uploadNotifier wakes downloads waiting for an asynchronous upload in
// this process (each waiter rechecks its row); waiters also poll the
// database, since the PUT may land on another process in a polylith.
type uploadNotifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// changed is closed at the next completed upload.
func (n *uploadNotifier) changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *uploadNotifier) notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
