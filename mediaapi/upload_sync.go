package mediaapi

import (
	"net/http"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/mediaapi/storage"
)

// uploadSync: POST /_matrix/media/v3/upload.
func (m *MediaAPI) uploadSync(w http.ResponseWriter, req *http.Request, userID string) {
	if limited := m.uploads.Check(req, userID); limited != nil {
		limited.Write(w)
		return
	}
	params, err := parseUploadParams(req)
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	sp, err := m.spoolBody(req)
	if err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	now := time.Now().UnixMilli()
	row := &storage.Media{Origin: m.serverName, MediaID: newMediaID(), Uploader: userID, ContentType: params.contentType,
		FileName: params.fileName, Size: sp.Size, SHA256: sp.SHA256, CreatedTS: now, LastAccess: now}
	if err := m.commitAndRecord(req.Context(), sp, func() error { return m.db.InsertMedia(req.Context(), row) }); err != nil {
		errorResponse(m.log, err).Write(w)
		return
	}
	m.afterUpload(row)
	httputil.OK(map[string]string{"content_uri": "mxc://" + m.serverName + "/" + row.MediaID}).Write(w)
}

// afterUpload makes the configured thumbnails of an image in the
// background (the upload is answered first).
func (m *MediaAPI) afterUpload(row *storage.Media) {
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		m.pregenerateThumbnails(m.stopCtx, row)
	}()
}
