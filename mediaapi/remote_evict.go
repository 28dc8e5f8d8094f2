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
// row uses. It holds the blobs lock throughout, so a thumbnail being made
// meanwhile either lands before (and is deleted with the rest) or finds
// the media gone (storeThumbnail) and records nothing.
func (m *MediaAPI) deleteMedia(ctx context.Context, origin, mediaID string) error {
	m.blobs.Lock()
	defer m.blobs.Unlock()
	shas, err := m.db.DeleteMedia(ctx, origin, mediaID)
	if err != nil {
		return err
	}
	for _, sha := range shas {
		if err := m.deleteUnusedFileLocked(ctx, sha); err != nil {
			return err
		}
	}
	return nil
}

// deleteUnusedFile removes a stored file if no row refers to it any more.
func (m *MediaAPI) deleteUnusedFile(ctx context.Context, sha string) error {
	m.blobs.Lock()
	defer m.blobs.Unlock()
	return m.deleteUnusedFileLocked(ctx, sha)
}

func (m *MediaAPI) deleteUnusedFileLocked(ctx context.Context, sha string) error {
	used, err := m.db.SHA256InUse(ctx, sha)
	if err != nil || used {
		return err
	}
	return m.store.Delete(ctx, sha)
}
