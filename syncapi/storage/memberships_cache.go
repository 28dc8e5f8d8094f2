package storage

import (
	"context"
	"slices"

	"github.com/axon-hs/axon/syncapi/types"
)

// keptMemberships is a user's MembershipsAt answer and the position it
// was read at.
type keptMemberships struct {
	at types.StreamPosition
	ms []MembershipChange
}

// maxKeptMemberships bounds the users whose memberships are kept.
const maxKeptMemberships = 20_000

// MembershipsAt returns the user's latest membership in every room it has
// ever had one in, as of position at. The syncapi writer answers from
// the user's last answer when no membership of theirs changed since it
// was read (every /sync of a woken long-poll asks, and memberships
// rarely change); everyone else reads the table.
func (d *DB) MembershipsAt(ctx context.Context, userID string, at types.StreamPosition) ([]MembershipChange, error) {
	if k, ok := d.memberships.Get(userID); ok && k.at <= at && d.unreadLog.noMemberChange(userID, k.at, at) {
		return slices.Clone(k.ms), nil
	}
	ms, err := d.membershipsAt(ctx, userID, at)
	if err == nil && d.unreadLog.committedThrough(at) {
		kept := keptMemberships{at: at, ms: slices.Clone(ms)}
		d.memberships.Update(userID, func(old keptMemberships, ok bool) keptMemberships {
			if ok && old.at > at {
				return old
			}
			return kept
		})
	}
	return ms, err
}

func (d *DB) membershipsAt(ctx context.Context, userID string, at types.StreamPosition) ([]MembershipChange, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT m.room_id, m.membership, m.event_id, m.pos FROM syncapi_memberships m
		WHERE m.user_id = $1 AND m.pos = (SELECT MAX(pos) FROM syncapi_memberships
			WHERE user_id = $1 AND room_id = m.room_id AND pos <= $2)`, userID, int64(at))
	return scanMemberships(rows, err, userID)
}

// noMemberChange reports whether the log knows that userID's membership
// rows did not change in (from, to]: this process wrote every row in the
// range (as writer, logging since before from, through to) and noted none
// of the user's after from. Changes are noted before their commit, so
// one in flight counts as a change.
func (l *unreadLog) noMemberChange(userID string, from, to types.StreamPosition) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on && from >= l.since && to <= l.through && from >= l.memberFloor && l.memberAt[userID] <= from
}

// committedThrough reports whether every row at or below at was written
// and committed by this process as the logging writer, so an answer read
// at at may be kept.
func (l *unreadLog) committedThrough(at types.StreamPosition) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on && at >= l.since && at <= l.through
}
