package storage

import (
	"context"

	"github.com/axon-hs/axon/syncapi/types"
)

// SetManyRoomsChunk changes how many rooms one many-room query covers,
// so tests can cross chunk boundaries with a few rooms; it returns a
// function restoring the old value.
func SetManyRoomsChunk(n int) (restore func()) {
	old := manyRoomsChunk
	manyRoomsChunk = n
	return func() { manyRoomsChunk = old }
}

// ForgetUnreadCountsOnly drops the kept counts but not the writer's log,
// so the next count reads the tables.
func (d *DB) ForgetUnreadCountsOnly() { d.unread.reset() }

// UnreadLogCovers says whether the writer's log covers (from, upTo] for user.
func (d *DB) UnreadLogCovers(user string, joined []string, from, upTo types.StreamPosition) bool {
	return d.unreadLog.count(user, joined, from, upTo, nil, unreadSet{})
}

// MembershipsKept says whether MembershipsAt(user, at) would be answered
// from the user's kept answer.
func (d *DB) MembershipsKept(user string, at types.StreamPosition) bool {
	k, ok := d.memberships.Get(user)
	return ok && k.at <= at && d.unreadLog.noMemberChange(user, k.at, at)
}

// MembershipsFromTable reads MembershipsAt from the table.
func (d *DB) MembershipsFromTable(ctx context.Context, user string, at types.StreamPosition) ([]MembershipChange, error) {
	return d.membershipsAt(ctx, user, at)
}
