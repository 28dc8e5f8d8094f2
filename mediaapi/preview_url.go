package mediaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/mediaapi/preview"
	"github.com/axon-hs/axon/mediaapi/storage"
	"github.com/axon-hs/axon/mediaapi/thumbnail"
)

// maxPreviewURLBytes bounds the url parameter.
const maxPreviewURLBytes = 2048

// previewCacheAge: cached previews older than this are dropped.
const previewCacheAge = 24 * time.Hour

// previewURL: GET /media/preview_url?url=…[&ts=…]. Results are cached per
// URL and hour.
func (m *MediaAPI) previewURL(req *http.Request, userID string) httputil.JSONResponse {
	if m.preview == nil {
		return errorResponse(m.log, errPreviewDisabled)
	}
	q := req.URL.Query()
	raw := q.Get("url")
	u, err := url.Parse(raw)
	if raw == "" || len(raw) > maxPreviewURLBytes || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errorResponse(m.log, invalidParam("url must be an http(s) URL of at most 2048 bytes"))
	}
	u.Fragment = ""
	key := u.String()
	now := time.Now()
	hour := now.UnixMilli() / time.Hour.Milliseconds()
	if ts, err := strconv.ParseInt(q.Get("ts"), 10, 64); err == nil && ts > 0 && ts < now.UnixMilli() {
		hour = ts / time.Hour.Milliseconds()
	}
	if og, err := m.db.URLPreview(req.Context(), key, hour); err == nil {
		return httputil.OK(json.RawMessage(og))
	} else if !errors.Is(err, istorage.ErrNotFound) {
		return errorResponse(m.log, err)
	}
	ch := m.previews.DoChan(key+"#"+strconv.FormatInt(hour, 10), func() (any, error) {
		ctx, cancel := context.WithTimeout(m.stopCtx, 2*m.cfg.URLPreview.Timeout)
		defer cancel()
		og, err := m.buildPreview(ctx, key, userID)
		if err != nil {
			return nil, err
		}
		data, err := json.Marshal(og)
		if err != nil {
			return nil, err
		}
		if err := m.db.StoreURLPreview(ctx, key, hour, string(data), time.Now().UnixMilli(), time.Now().Add(-previewCacheAge).UnixMilli()); err != nil {
			return nil, err
		}
		return json.RawMessage(data), nil
	})
	select {
	case <-req.Context().Done():
		return errorResponse(m.log, req.Context().Err())
	case res := <-ch:
		if res.Err != nil {
			return errorResponse(m.log, res.Err)
		}
		return httputil.OK(res.Val)
	}
}

// buildPreview fetches the page and its og:image (stored as our media).
func (m *MediaAPI) buildPreview(ctx context.Context, pageURL, userID string) (map[string]any, error) {
	resp, err := m.preview.Get(ctx, pageURL)
	if err != nil {
		return nil, previewError(err)
	}
	defer resp.Close()
	og := map[string]any{}
	mt, _, _ := mime.ParseMediaType(resp.ContentType)
	switch {
	case strings.HasPrefix(mt, "image/"):
		if err := m.previewImage(ctx, og, resp, userID); err != nil {
			return nil, err
		}
	case mt == "text/html" || mt == "application/xhtml+xml":
		page, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, previewError(err)
		}
		for k, v := range preview.Meta(bytes.NewReader(page)) {
			og[k] = v
		}
		if img, ok := og["og:image"].(string); ok && img != "" {
			delete(og, "og:image")
			if ref, err := resp.URL.Parse(img); err == nil {
				if ir, err := m.preview.Get(ctx, ref.String()); err == nil {
					if err := m.previewImage(ctx, og, ir, userID); err != nil {
						m.log.Debug("preview image", "url", ref.String(), "error", err)
					}
					ir.Close()
				}
			}
		}
	}
	return og, nil
}

// previewImage stores an image found for a preview and describes it.
func (m *MediaAPI) previewImage(ctx context.Context, og map[string]any, resp *preview.Response, userID string) error {
	sp, err := m.spool(resp.Body, m.maxUpload, errPreviewFailed)
	if err != nil {
		return previewError(err)
	}
	f, err := sp.Open()
	if err != nil {
		sp.Remove()
		return err
	}
	info, perr := thumbnail.Probe(f, m.cfg.MaxImagePixels)
	f.Close()
	now := time.Now().UnixMilli()
	ct, _, _ := mime.ParseMediaType(resp.ContentType)
	row := &storage.Media{Origin: m.serverName, MediaID: newMediaID(), Uploader: userID, ContentType: ct,
		Size: sp.Size, SHA256: sp.SHA256, CreatedTS: now, LastAccess: now}
	if err := m.commitAndRecord(ctx, sp, func() error { return m.db.InsertMedia(ctx, row) }); err != nil {
		return err
	}
	og["og:image"] = "mxc://" + m.serverName + "/" + row.MediaID
	og["og:image:type"] = ct
	og["matrix:image:size"] = sp.Size
	if perr == nil {
		og["og:image:width"], og["og:image:height"] = info.Width, info.Height
	}
	m.afterUpload(row)
	return nil
}

func previewError(err error) error {
	var me *mediaError
	switch {
	case errors.As(err, &me):
		return err
	case errors.Is(err, preview.ErrForbiddenAddress):
		return errPreviewRefused
	case errors.Is(err, context.DeadlineExceeded):
		return errRemoteTimeout
	}
	return errPreviewFailed
}
