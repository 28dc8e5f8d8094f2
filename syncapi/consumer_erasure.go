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
// holds the write lock while it records the user and replaces the set.
// So every message of theirs is either committed before that (and found
// by the rewrite that follows) or stored after it (and erased when
// stored).
type erasedUsers struct {
	mu  sync.RWMutex
	set map[string]bool // replaced, never changed in place
}

// erasureChunk is how many messages one rewrite transaction erases, so
// erasing a prolific user does not hold the (SQLite) writer for long.
const erasureChunk = 200

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
// user, then rewrites their stored messages in chunks, then stores the
// stream position. Rewriting is idempotent, so a crash part way through
// is finished when the message is applied again on start.
func (s *SyncAPI) onErased(ctx context.Context, msg stream.Message, userID string) error {
	if err := s.markErased(ctx, userID); err != nil {
		return err
	}
	var after types.StreamPosition = types.MinBackfillPos - 1
	erased := 0
	for {
		var n int
		var last types.StreamPosition
		err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error { // may run again: no effects outside
			evs, err := s.db.UnredactedMessagesBy(ctx, tx, userID, after, erasureChunk)
			if err != nil {
				return err
			}
			n = len(evs)
			for _, ev := range evs {
				last = ev.Pos
				if err := ev.Erase(); err != nil {
					s.log.Warn("erasure: event left as it is, it cannot be redacted", "event_id", ev.EventID, "error", err)
					continue
				}
				if err := s.db.UpdateEventJSON(ctx, tx, ev.EventID, ev.JSON, true); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.shared.forget() // old events rewritten at no new position
		erased, after = erased+n, last
		if n < erasureChunk {
			break
		}
	}
	if err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		return s.db.SetConsumerSeq(ctx, tx, stream.AccountData, msg.Seq)
	}); err != nil {
		return err
	}
	s.log.Info("user erased: messages redacted", "user_id", userID, "messages", erased)
	return nil
}

// markErased records userID as erased and adds it to the set, under the
// write lock (see erasedUsers).
func (s *SyncAPI) markErased(ctx context.Context, userID string) error {
	s.erased.mu.Lock()
	defer s.erased.mu.Unlock()
	if s.erased.set[userID] {
		return nil
	}
	if err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return s.db.AddErasedUser(ctx, tx, userID) }); err != nil {
		return err
	}
	set := make(map[string]bool, len(s.erased.set)+1)
	for u := range s.erased.set {
		set[u] = true
	}
	set[userID] = true
	s.erased.set = set
	return nil
}
