package syncapi

import (
	"context"
	"sync"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/types"
)

// Erasure (deactivation with erase, spec POST /account/deactivate): the
// messages an erased user sent are stored redacted, so every read path
// (/sync, /messages, /context, /event, /search, /notifications,
// relations and bundled aggregations) serves them redacted to everyone,
// those who saw them earlier included. State events are kept: the room's
// state must not change. The userapi announces an erasure on the
// account_data stream (uapi.OutputAccountData.Erased); messages that
// arrive later (a room_events backlog, backfill) are erased as they are
// stored.

// erasedUsers is the set of erased users. A room_events batch holds the
// read lock for its whole transaction and reads the set once; an erasure
// holds the write lock while it replaces the set and rewrites the user's
// stored messages, so every message is either committed before the
// rewrite (and rewritten) or stored after it (and erased when stored).
type erasedUsers struct {
	mu  sync.RWMutex
	set map[string]bool // replaced, never changed in place
}

// loadErasedUsers reads the set at start.
func (s *SyncAPI) loadErasedUsers(ctx context.Context) error {
	users, err := s.db.ErasedUsers(ctx)
	if err != nil {
		return err
	}
	set := make(map[string]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	s.erased.set = set
	return nil
}

// eraseIfErased erases ev before it is stored if its sender is erased
// (erased is the batch's view of the set).
func eraseIfErased(ev *types.Event, erased map[string]bool) error {
	if ev.IsState() || !erased[ev.Sender] || ev.Redacted {
		return nil
	}
	return ev.Erase()
}

// onErased applies an erasure from the account_data stream: records the
// user and rewrites their stored messages, with the stream position, in
// one transaction. Applying it twice changes nothing.
func (s *SyncAPI) onErased(ctx context.Context, msg stream.Message, userID string) error {
	s.erased.mu.Lock()
	defer s.erased.mu.Unlock()
	var rooms []string
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		rooms = rooms[:0]
		if err := s.db.AddErasedUser(ctx, tx, userID); err != nil {
			return err
		}
		evs, err := s.db.UnredactedMessagesBy(ctx, tx, userID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, ev := range evs {
			if err := ev.Erase(); err != nil {
				s.log.Warn("erasure: event left as it is, it cannot be redacted", "event_id", ev.EventID, "error", err)
				continue
			}
			if err := s.db.UpdateEventJSON(ctx, tx, ev.EventID, ev.JSON, true); err != nil {
				return err
			}
			if !seen[ev.RoomID] {
				seen[ev.RoomID] = true
				rooms = append(rooms, ev.RoomID)
			}
		}
		return s.db.SetConsumerSeq(ctx, tx, stream.AccountData, msg.Seq)
	})
	if err != nil {
		return err
	}
	set := make(map[string]bool, len(s.erased.set)+1)
	for u := range s.erased.set {
		set[u] = true
	}
	set[userID] = true
	s.erased.set = set
	s.log.Info("user erased: messages redacted", "user_id", userID, "rooms", len(rooms))
	return nil
}
