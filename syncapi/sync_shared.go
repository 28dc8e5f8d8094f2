package syncapi

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// sharedReads lets the incremental /syncs built at one PDU position share
// the reads that do not depend on the user: a message into a room wakes
// every long-poll in it, and each would otherwise read the same timeline
// rows, relations and rooms-with-events list again. Everything at or
// below a position the notifier showed is committed, and syncapi stores
// live events only at new, higher positions, so such a read gives the
// same rows while the notifier stands there. The first reader of a key
// reads; those arriving meanwhile wait for its answer. What the user may
// see (filters, history visibility, ignored senders, membership) is
// applied by each build to the shared rows.
//
// Only positive ranges are shared: backfilled history sits at negative
// positions and is stored at any time. A redaction applied to its target
// and an erasure rewrite old events at no new position: the writer
// forgets the shared reads after committing either, or a purge; and
// entries are dropped after sharedReadsFor anyway (a replica is not
// told), about as long as a build in flight may serve what it read
// before the rewrite.
type sharedReads struct {
	mu      sync.Mutex
	at      types.StreamPosition // the position entries were read at
	started time.Time
	calls   map[any]*sharedCall
}

// sharedReadsFor is how long the reads of one position are shared.
const sharedReadsFor = time.Second

type sharedCall struct {
	done chan struct{}
	val  any
	err  error
}

// maxSharedReads bounds the keys kept for one position (users far
// behind each have their own ranges).
const maxSharedReads = 4096

// sharedRead returns read's answer for key at position at, read once for
// every caller at that position. A failed read is not shared: each
// waiter then reads for itself (the first reader's request may have
// been cancelled).
func sharedRead[T any](m *sharedReads, at types.StreamPosition, key any, read func() (T, error)) (T, error) {
	m.mu.Lock()
	if now := time.Now(); at > m.at || m.calls == nil || now.Sub(m.started) > sharedReadsFor {
		m.at, m.started, m.calls = at, now, map[any]*sharedCall{}
	}
	if at < m.at {
		m.mu.Unlock()
		return read()
	}
	if c, ok := m.calls[key]; ok {
		m.mu.Unlock()
		<-c.done
		if c.err == nil {
			return c.val.(T), nil
		}
		return read()
	}
	if len(m.calls) >= maxSharedReads {
		m.mu.Unlock()
		return read()
	}
	c := &sharedCall{done: make(chan struct{})}
	m.calls[key] = c
	m.mu.Unlock()
	v, err := read()
	c.val, c.err = v, err
	if err != nil {
		m.mu.Lock()
		if m.calls[key] == c {
			delete(m.calls, key)
		}
		m.mu.Unlock()
	}
	close(c.done)
	return v, err
}

// forget drops every shared read (rows rewritten or deleted in place).
func (m *sharedReads) forget() {
	m.mu.Lock()
	m.calls = nil
	m.mu.Unlock()
}

type timelineKey struct {
	room     string
	lo, hi   types.StreamPosition
	batch    int
	backward bool
}

// roomEventsAt is db.RoomEvents (newest first) for a build at position
// at, shared between builds when the range is positive.
func (s *SyncAPI) roomEventsAt(ctx context.Context, at types.StreamPosition, roomID string, lo, hi types.StreamPosition, batch int) ([]*types.Event, error) {
	read := func() ([]*types.Event, error) { return s.db.RoomEvents(ctx, roomID, lo, hi, batch, true) }
	if lo <= 0 || hi > at || !s.shown(at) {
		return read()
	}
	return sharedRead(&s.shared, at, timelineKey{roomID, lo, hi, batch, true}, read)
}

type roomsAndMembers struct {
	rooms   map[string]bool
	members []storage.MembershipChange
}

type roomsAndMembersKey struct{ from, to types.StreamPosition }

// roomsAndMemberEventsBetween is db.RoomsAndMemberEventsBetween, shared
// between the builds at to. The answer is read-only.
func (s *SyncAPI) roomsAndMemberEventsBetween(ctx context.Context, from, to types.StreamPosition) (map[string]bool, []storage.MembershipChange, error) {
	read := func() (roomsAndMembers, error) {
		rooms, evs, err := s.db.RoomsAndMemberEventsBetween(ctx, from, to)
		return roomsAndMembers{rooms, evs}, err
	}
	var r roomsAndMembers
	var err error
	if from <= 0 || !s.shown(to) {
		r, err = read()
	} else {
		r, err = sharedRead(&s.shared, to, roomsAndMembersKey{from, to}, read)
	}
	return r.rooms, r.members, err
}

type relationsKey struct {
	upTo    types.StreamPosition
	parents string // the parent event IDs, NUL-separated
}

// relationsOf is db.RelationsOf, shared between the builds at upTo. The
// answer is read-only.
func (s *SyncAPI) relationsOf(ctx context.Context, parents []string, upTo types.StreamPosition) ([]storage.RelationRow, error) {
	read := func() ([]storage.RelationRow, error) { return s.db.RelationsOf(ctx, parents, upTo) }
	if !s.shown(upTo) {
		return read()
	}
	return sharedRead(&s.shared, upTo, relationsKey{upTo, strings.Join(parents, "\x00")}, read)
}

// shown reports whether the notifier has shown position at (so all at or
// below it is committed): only such reads are shared.
func (s *SyncAPI) shown(at types.StreamPosition) bool {
	return at > 0 && at <= s.notif.Current().PDU
}
