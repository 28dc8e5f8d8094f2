package mediaapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/axon-hs/axon/mediaapi/storage"
	"github.com/axon-hs/axon/mediaapi/thumbnail"
)

// maxThumbnailSide bounds a thumbnail asked for on demand.
const maxThumbnailSide = 2048

// thumbRequest is a parsed thumbnail query.
type thumbRequest struct {
	width, height int
	method        thumbnail.Method
	animated      bool
}

func parseThumbRequest(req *http.Request) (thumbRequest, error) {
	q := req.URL.Query()
	tr := thumbRequest{method: thumbnail.Scale}
	var err error
	if tr.width, err = strconv.Atoi(q.Get("width")); err != nil || tr.width < 1 {
		return tr, invalidParam("width must be a positive integer")
	}
	if tr.height, err = strconv.Atoi(q.Get("height")); err != nil || tr.height < 1 {
		return tr, invalidParam("height must be a positive integer")
	}
	tr.width, tr.height = min(tr.width, maxThumbnailSide), min(tr.height, maxThumbnailSide)
	switch q.Get("method") {
	case "", "scale":
	case "crop":
		tr.method = thumbnail.Crop
	default:
		return tr, invalidParam("method must be crop or scale")
	}
	if s := q.Get("animated"); s != "" {
		if tr.animated, err = strconv.ParseBool(s); err != nil {
			return tr, invalidParam("animated must be true or false")
		}
	}
	return tr, nil
}

// served is a file to send: a thumbnail, or the original when it is
// already small enough.
type served struct {
	sha, contentType, fileName string
	createdMS                  int64
}

// thumbnail: GET .../thumbnail/{serverName}/{mediaId}, both forms.
func (m *MediaAPI) thumbnail(authenticated bool) mediaHandler {
	return func(w http.ResponseWriter, req *http.Request, _ string) {
		ref, err := parseRef(req)
		if err != nil {
			errorResponse(m.log, err).Write(w)
			return
		}
		s, err := m.thumbnailOf(req, ref, authenticated)
		if err != nil {
			errorResponse(m.log, err).Write(w)
			return
		}
		m.serveBlob(w, req, s.sha, s.contentType, s.fileName, s.createdMS)
	}
}

// thumbnailOf resolves the media and finds or makes its thumbnail.
func (m *MediaAPI) thumbnailOf(req *http.Request, ref mediaRef, authenticated bool) (*served, error) {
	tr, err := parseThumbRequest(req)
	if err != nil {
		return nil, err
	}
	row, err := m.resolve(req.Context(), ref, authenticated)
	if err != nil {
		return nil, err
	}
	s, err := m.thumbnailFor(req.Context(), row, tr)
	if err != nil && row.Origin != m.serverName && errors.Is(err, errThumbTooLarge) {
		return nil, errRemoteThumbSize
	}
	return s, err
}

// thumbnailFor picks the smallest stored thumbnail at least as large as
// asked (the spec: never smaller, unless the image is), else makes one.
func (m *MediaAPI) thumbnailFor(ctx context.Context, row *storage.Media, tr thumbRequest) (*served, error) {
	if !strings.HasPrefix(servedContentType(row.ContentType), "image/") {
		return nil, errCannotThumbnail
	}
	// Only GIFs are animated here; for anything else animated=true is
	// the same as false (as the spec says).
	tr.animated = tr.animated && strings.HasPrefix(servedContentType(row.ContentType), "image/gif")
	stored, err := m.db.Thumbnails(ctx, row.Origin, row.MediaID)
	if err != nil {
		return nil, err
	}
	if t := pickThumbnail(stored, tr); t != nil {
		return thumbServed(t), nil
	}
	size := m.targetSize(tr)
	key := row.Origin + "/" + row.MediaID + "/" + strconv.Itoa(size.Width) + "x" + strconv.Itoa(size.Height) + "/" + string(size.Method) + "/" + strconv.FormatBool(tr.animated)
	v, err, _ := m.thumbs.Do(key, func() (any, error) {
		return m.makeThumbnail(context.WithoutCancel(ctx), row, size, tr.animated)
	})
	if errors.Is(err, thumbnail.ErrNotSmaller) {
		// Already no larger than asked: the original is the thumbnail.
		return &served{sha: row.SHA256, contentType: row.ContentType, fileName: row.FileName, createdMS: row.CreatedTS}, nil
	}
	if err != nil {
		return nil, err
	}
	return thumbServed(v.(*storage.Thumbnail)), nil
}

func thumbServed(t *storage.Thumbnail) *served {
	ext := strings.TrimPrefix(t.ContentType, "image/")
	return &served{sha: t.SHA256, contentType: t.ContentType, fileName: "thumbnail." + ext, createdMS: t.CreatedTS}
}

// pickThumbnail is the smallest stored thumbnail of the method covering
// the asked size. An animated request takes an animated one when there is
// one; a static request never does.
func pickThumbnail(stored []storage.Thumbnail, tr thumbRequest) *storage.Thumbnail {
	var best *storage.Thumbnail
	for i := range stored {
		t := &stored[i]
		if thumbnail.Method(t.Method) != tr.method || t.Width < tr.width || t.Height < tr.height || t.Animated != tr.animated {
			continue
		}
		if best == nil || t.Width*t.Height < best.Width*best.Height {
			best = t
		}
	}
	return best
}

// targetSize rounds a request up to the smallest configured size of its
// method that covers it, so odd sizes share thumbnails; larger requests
// are rounded up to multiples of 64.
func (m *MediaAPI) targetSize(tr thumbRequest) thumbnail.Size {
	var best *thumbnail.Size
	for _, s := range m.cfg.ThumbnailSizes {
		if thumbnail.Method(s.Method) != tr.method || s.Width < tr.width || s.Height < tr.height {
			continue
		}
		if best == nil || s.Width*s.Height < best.Width*best.Height {
			best = &thumbnail.Size{Width: s.Width, Height: s.Height, Method: tr.method}
		}
	}
	if best != nil {
		return *best
	}
	// Round up to a multiple of 64 (never smaller than asked), so the
	// sizes kept per file stay few however clients ask.
	up := func(n int) int { return min(maxThumbnailSide, (n+63)/64*64) }
	return thumbnail.Size{Width: up(tr.width), Height: up(tr.height), Method: tr.method}
}
