package mediaapi

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/mediaapi/storage"
	"github.com/axon-hs/axon/mediaapi/thumbnail"
)

// decodeSource decodes a stored image, refusing decompression bombs from
// the header before any pixel is decoded. At most two decodes run at once
// (each may take up to max_image_pixels × 4 bytes).
func (m *MediaAPI) decodeSource(ctx context.Context, row *storage.Media, animated bool) (*thumbnail.Source, error) {
	select {
	case m.thumbSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-m.thumbSem }()
	f, err := m.store.Open(ctx, row.SHA256)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := thumbnail.Decode(f, m.cfg.MaxImagePixels, animated)
	switch {
	case errors.Is(err, thumbnail.ErrTooManyPixels):
		return nil, errThumbTooLarge
	case err != nil:
		return nil, errCannotThumbnail
	}
	return src, nil
}

// makeThumbnail renders, stores and records one thumbnail.
func (m *MediaAPI) makeThumbnail(ctx context.Context, row *storage.Media, size thumbnail.Size, animated bool) (*storage.Thumbnail, error) {
	src, err := m.decodeSource(ctx, row, animated)
	if err != nil {
		return nil, err
	}
	return m.storeThumbnail(ctx, row, src, size)
}

func (m *MediaAPI) storeThumbnail(ctx context.Context, row *storage.Media, src *thumbnail.Source, size thumbnail.Size) (*storage.Thumbnail, error) {
	th, err := src.Make(size)
	if err != nil {
		return nil, err
	}
	thumbnailsMade.Inc()
	sp, err := m.spool(bytes.NewReader(th.Data), int64(len(th.Data)), errThumbTooLarge)
	if err != nil {
		return nil, err
	}
	t := &storage.Thumbnail{Origin: row.Origin, MediaID: row.MediaID, Width: size.Width, Height: size.Height,
		Method: string(size.Method), Animated: th.Animated, ContentType: th.ContentType, Size: sp.Size,
		SHA256: sp.SHA256, CreatedTS: time.Now().UnixMilli()}
	// Media deleted meanwhile (admin API, eviction) gets no thumbnail row
	// (storage.InsertThumbnail checks) and so no file.
	if _, err := m.db.Media(ctx, row.Origin, row.MediaID); err != nil {
		sp.Remove()
	} else {
		err = m.commitAndRecord(ctx, sp, func() error { return m.db.InsertThumbnail(ctx, t) })
	}
	if errors.Is(err, istorage.ErrNotFound) {
		return nil, errNotFound
	} else if err != nil {
		return nil, err
	}
	return t, nil
}

// pregenerateThumbnails makes the configured sizes of a new image upload
// (one decode for all). Failures are only logged: thumbnails are also
// made on demand.
func (m *MediaAPI) pregenerateThumbnails(ctx context.Context, row *storage.Media) {
	if !strings.HasPrefix(servedContentType(row.ContentType), "image/") {
		return
	}
	src, err := m.decodeSource(ctx, row, false)
	if err != nil {
		return // not an image we can read, or too large: served as is
	}
	for _, s := range m.cfg.ThumbnailSizes {
		size := thumbnail.Size{Width: s.Width, Height: s.Height, Method: thumbnail.Method(s.Method)}
		if _, err := m.storeThumbnail(ctx, row, src, size); errors.Is(err, errNotFound) {
			return // deleted meanwhile
		} else if err != nil && !errors.Is(err, thumbnail.ErrNotSmaller) {
			m.log.Warn("thumbnail at upload", "media_id", row.MediaID, "size", size, "error", err)
		}
	}
}
