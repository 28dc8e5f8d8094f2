package syncapi

import (
	"context"
	"fmt"
	"time"
)

// A writer that stops between committing a batch and publishing its
// wake (killed, or its lease moving while the commit was answered)
// leaves that batch unannounced: the new writer consumes after it, so no
// replica's notifier would learn its positions and no room's cached
// state would be dropped, and /sync everywhere would miss those events
// until the room's next event. So the new writer, before it consumes,
// reads positions and joined members from the tables, and has the other
// replicas do the same (wakeMsg.Resync). A takeover is rare; each costs
// one read of every joined member per replica, and every long-poll
// answers once.

// resyncTimeout bounds a replica's resync.
const resyncTimeout = 10 * time.Second

// takeOverWriting resyncs this replica and tells the others to.
func (s *SyncAPI) takeOverWriting(ctx context.Context) error {
	if err := s.resync(ctx); err != nil {
		return fmt.Errorf("syncapi resync on takeover: %w", err)
	}
	if s.replica != nil && s.replica.publish != nil {
		s.replica.publish(wakeMsg{Resync: true})
	}
	return nil
}

// resyncFromTables is resync for another replica's takeover.
func (s *SyncAPI) resyncFromTables() {
	ctx, cancel := context.WithTimeout(context.Background(), resyncTimeout)
	defer cancel()
	if err := s.resync(ctx); err != nil {
		s.log.Warn("resync after another replica took the writing over", "error", err)
	}
}

// resync takes positions and joined members from the tables and drops
// the cached room states and ignore lists.
func (s *SyncAPI) resync(ctx context.Context) error {
	pos, err := s.db.MaxPositions(ctx)
	if err != nil {
		return err
	}
	joined, err := s.db.AllJoinedMembers(ctx)
	if err != nil {
		return err
	}
	s.cache.invalidateAll()
	s.ignores.forgetAll()
	s.notif.Resync(pos, joined)
	return nil
}
