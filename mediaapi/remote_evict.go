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
			shas, err := m.db.DeleteMedia(ctx, row.Origin, row.MediaID)
			if err != nil {
				return dropped, err
			}
			for _, sha := range shas {
				if err := m.deleteUnusedFile(ctx, sha); err != nil {
					return dropped, err
				}
			}
			dropped++
		}
	}
}

// deleteUnusedFile removes a stored file if no row refers to it any more.
func (m *MediaAPI) deleteUnusedFile(ctx context.Context, sha string) error {
	m.blobs.Lock()
	defer m.blobs.Unlock()
	used, err := m.db.SHA256InUse(ctx, sha)
	if err != nil || used {
		return err
	}
	return m.store.Delete(ctx, sha)
}
