package roomserver

import (
	"testing"

	"github.com/axon-hs/axon/roomserver/storage"
)

// A run's rows are sorted by event ID with each row's entry kept beside
// it (the entry gets the row's NID on insert).
func TestSortByEventIDKeepsPairs(t *testing.T) {
	ids := []string{"$c", "$a", "$d", "$b"}
	rows := make([]*storage.Event, len(ids))
	ss := make([]*stored, len(ids))
	for i, id := range ids {
		rows[i], ss[i] = &storage.Event{EventID: id, Depth: int64(i)}, &stored{snapshotNID: int64(i)}
	}
	sortByEventID(rows, ss)
	for k, want := range []string{"$a", "$b", "$c", "$d"} {
		if rows[k].EventID != want || ss[k].snapshotNID != rows[k].Depth {
			t.Fatalf("position %d: row %s (from %d) with the entry from %d, want %s with its own", k, rows[k].EventID, rows[k].Depth, ss[k].snapshotNID, want)
		}
	}
}
