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
// reads the positions from the tables and, for the rooms with events
// past what its notifier knew, their joined members (dropping their
// cached state), and has the other replicas do the same
// (wakeMsg.Resync). The reads are bounded by what went unannounced, not
// by the server's size: they run inside the lease's take-over.

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

// resync brings this replica up to the tables: positions, and for the
// rooms with events its notifier was not told of, joined members and
// cached state; ignore lists are read again.
func (s *SyncAPI) resync(ctx context.Context) error {
	pos, err := s.db.MaxPositions(ctx)
	if err != nil {
		return err
	}
	rooms, err := s.db.RoomsChangedBetween(ctx, s.notif.Current().PDU, pos.PDU)
	if err != nil {
		return err
	}
	joined := make(map[string][]string, len(rooms))
	for _, room := range rooms {
		if joined[room], err = s.db.RoomMembers(ctx, nil, room, "join"); err != nil {
			return err
		}
		s.cache.invalidate(room)
	}
	s.ignores.forgetAll()
	s.notif.Resync(pos, joined)
	return nil
}
