package syncapi

import (
	"context"
	"sync"
	"time"
)

// Notifications are kept for notificationsMaxAge and at most
// notificationsPerUser per user: /notifications pages through recent
// ones, and unread counts only need those after the read receipt, which
// nobody leaves unread for a month in practice.
const (
	notificationsMaxAge     = 30 * 24 * time.Hour
	notificationsPerUser    = 5000
	notificationsPruneEvery = time.Hour
)

// maintenanceLoop runs the presence timers and prunes notifications (and
// shared sliding sync positions long unused).
func (s *SyncAPI) maintenanceLoop(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	reap := time.NewTicker(presenceReapEvery)
	defer reap.Stop()
	prune := time.NewTicker(notificationsPruneEvery)
	defer prune.Stop()
	s.pruneNotifications(ctx, time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-reap.C:
			if s.base.Cfg.Presence.Enabled {
				s.reapPresence(ctx, now)
			}
		case now := <-prune.C:
			s.pruneNotifications(ctx, now)
			s.pruneSharedSliding(ctx, now)
		}
	}
}

func (s *SyncAPI) pruneNotifications(ctx context.Context, now time.Time) {
	n, err := s.db.PruneNotifications(ctx, now.Add(-notificationsMaxAge).UnixMilli(), notificationsPerUser)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("prune notifications", "error", err)
	case n > 0:
		s.log.Info("pruned notifications", "rows", n)
	}
}
