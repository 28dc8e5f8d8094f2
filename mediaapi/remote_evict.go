package mediaapi

import (
	"context"
	"time"
)

// evictBatch is how many cached remote files one eviction pass looks at.
const evictBatch = 100

// evictRemoteLoop drops cached remote media unused for
// media.remote_cache_max_age, hourly.
func (m *MediaAPI) evictRemoteLoop() {
	defer m.bg.Done()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := m.evictRemote(m.stopCtx, time.Now().Add(-m.cfg.RemoteCacheMaxAge)); err != nil && m.stopCtx.Err() == nil {
			m.log.Warn("evicting cached remote media", "error", err)
		}
		select {
		case <-m.stopCtx.Done():
			return
		case <-t.C:
		}
	}
}

// evictRemote deletes cached remote media last accessed before cutoff,
// and the files no other row uses. It returns how many were dropped.
func (m *MediaAPI) evictRemote(ctx context.Context, cutoff time.Time) (int, error) {
	dropped := 0
	for {
		stale, err := m.db.StaleRemote(ctx, m.serverName, cutoff.UnixMilli(), evictBatch)
		if err != nil || len(stale) == 0 {
			return dropped, err
		}
		for _, row := range stale {
			if err := m.deleteMedia(ctx, row.Origin, row.MediaID); err != nil {
				return dropped, err
			}
			dropped++
		}
	}
}

// deleteMedia removes a media row, its thumbnails and the files no other
// row uses. A thumbnail being made meanwhile either lands before (and is
// deleted with the rest) or finds the media gone and records nothing
// (storage.InsertThumbnail).
func (m *MediaAPI) deleteMedia(ctx context.Context, origin, mediaID string) error {
	shas, err := m.db.DeleteMedia(ctx, origin, mediaID)
	if err != nil {
		return err
	}
	for _, sha := range shas {
		if err := m.deleteUnusedFile(ctx, sha); err != nil {
			return err
		}
	}
	return nil
}
