package mediaapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/axon-hs/axon/mediaapi/blob"
)

// maxFileNameBytes bounds a file name given with an upload.
const maxFileNameBytes = 255

// uploadParams are what a client says about an upload.
type uploadParams struct {
	contentType string
	fileName    string
}

// parseUploadParams reads Content-Type and ?filename. The content type is
// kept as given (clients rely on it), but only used for inline display
// when it is on the safe list (see disposition).
func parseUploadParams(req *http.Request) (uploadParams, error) {
	p := uploadParams{contentType: req.Header.Get("Content-Type"), fileName: req.URL.Query().Get("filename")}
	if p.contentType == "" {
		p.contentType = "application/octet-stream"
	} else if _, _, err := mime.ParseMediaType(p.contentType); err != nil || len(p.contentType) > 255 {
		return p, invalidParam("Content-Type is not a valid media type")
	}
	if len(p.fileName) > maxFileNameBytes || !utf8.ValidString(p.fileName) ||
		strings.ContainsFunc(p.fileName, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '/' || r == '\\' }) {
		return p, invalidParam("filename must be at most 255 bytes of UTF-8 without control characters or slashes")
	}
	return p, nil
}

// spoolBody writes the request body to a temporary file, refusing more
// than max_upload_bytes before reading when Content-Length says so.
func (m *MediaAPI) spoolBody(req *http.Request) (*blob.Spooled, error) {
	if req.ContentLength > m.maxUpload {
		return nil, errTooLarge
	}
	sp, err := m.spool(req.Body, m.maxUpload, errTooLarge)
	if err == nil {
		uploadedBytes.Add(float64(sp.Size))
	}
	return sp, err
}

// spool writes r (at most limit bytes, else tooLarge) to a temporary file.
func (m *MediaAPI) spool(r io.Reader, limit int64, tooLarge error) (*blob.Spooled, error) {
	sp, err := blob.Spool(m.spoolDir(), r, limit)
	var maxErr *http.MaxBytesError
	if errors.Is(err, blob.ErrTooLarge) || errors.As(err, &maxErr) {
		return nil, tooLarge
	}
	return sp, err
}

// commitAndRecord stores the spooled file, then runs record (which writes
// the row pointing at it), with the file pinned throughout (blob_lock.go)
// so that no process deletes it in between. A file whose row was not
// written is deleted again unless something else uses it.
func (m *MediaAPI) commitAndRecord(ctx context.Context, sp *blob.Spooled, record func() error) error {
	token, err := m.pinBlob(ctx, sp.SHA256)
	if err != nil {
		sp.Remove()
		return err
	}
	err = m.store.Commit(ctx, sp)
	if err != nil {
		sp.Remove()
	} else {
		err = record()
	}
	m.unpinBlob(ctx, sp.SHA256, token)
	if err != nil {
		if derr := m.deleteUnusedFile(context.WithoutCancel(ctx), sp.SHA256); derr != nil {
			m.log.Warn("deleting an unrecorded file", "sha256", sp.SHA256, "error", derr)
		}
	}
	return err
}
