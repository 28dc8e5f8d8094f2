package storage

import (
	"fmt"
	"testing"

	"github.com/axon-hs/axon/syncapi/types"
)

// The log holds at most maxLoggedTotal rows over all users and rooms:
// past it, it starts covering afresh, and a range from before that is
// counted from the tables again.
func TestUnreadLogBoundsRowsInAll(t *testing.T) {
	l := newUnreadLog()
	pos := types.StreamPosition(1)
	for ; l.rows <= maxLoggedTotal; pos++ {
		// One own row for each of 1,000 users: no user reaches maxLoggedRows.
		user := fmt.Sprintf("@u%d:hs", int(pos)%1000)
		l.committed(pos, nil, []Notification{{UserID: user, RoomID: "!r:hs", EventPos: pos}})
	}
	if l.rows <= maxLoggedTotal {
		t.Fatalf("set-up: %d rows logged", l.rows)
	}
	if !l.count("@u1:hs", []string{"!r:hs"}, 0, pos-1, nil, unreadSet{}) {
		t.Fatal("the log should still cover the whole range before it starts over")
	}
	l.committed(pos, nil, []Notification{{UserID: "@u1:hs", RoomID: "!r:hs", EventPos: pos}})
	if l.rows != 1 {
		t.Fatalf("after the bound: %d rows kept, want 1", l.rows)
	}
	if l.count("@u1:hs", []string{"!r:hs"}, 0, pos, nil, unreadSet{}) {
		t.Fatal("a range from before the restart must be counted from the tables")
	}
	all := unreadSet{}
	if !l.count("@u1:hs", []string{"!r:hs"}, pos-1, pos, nil, all) || all["!r:hs"] == nil {
		t.Fatalf("the row after the restart should be counted from the log: %v", all)
	}
}
