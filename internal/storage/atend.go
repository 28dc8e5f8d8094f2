package storage

import "context"

// Merged end writes. Into many rooms at once a SQLite group commit holds
// one batch of each of several rooms, and each batch ended with writes of
// its own of the same kind (the room's head row, its outbox rows): one
// statement each per room. A write queued with Tx.AtEnd runs after the
// caller's function instead, together with the same kind of writes of
// the group's other callers that succeeded, as one call of its Merger
// (one multi-row statement).

// A Merger writes, in one go, the items queued under it with AtEnd.
type Merger interface {
	// Merge writes items (in the order they were queued; in a group,
	// of several callers). It must not fail but with the database.
	Merge(ctx context.Context, tx *Tx, items []any) error
}

type atEnd struct {
	m    Merger
	item any
}

// AtEnd queues item for m: it is written after the write function
// returns nil, before the commit, and not if the function fails. The
// function must not read back what item writes, nor use what m sets
// in item before WriteTx returns. Merge's error is WriteTx's; in a
// group commit it fails every caller whose items were merged with it,
// so only writes that cannot fail on their own (an UPDATE by key, an
// INSERT with no constraint to break) belong here.
func (tx *Tx) AtEnd(m Merger, item any) {
	tx.ends = append(tx.ends, atEnd{m, item})
}

// runEnds writes the queued items, one Merge per Merger in the order
// each was first queued, and forgets them.
func (tx *Tx) runEnds() error {
	ends := tx.ends
	tx.ends = nil
	for i, e := range ends {
		if e.m == nil {
			continue
		}
		items := []any{e.item}
		for j := i + 1; j < len(ends); j++ {
			if ends[j].m == e.m {
				items = append(items, ends[j].item)
				ends[j].m = nil
			}
		}
		if err := e.m.Merge(context.Background(), tx, items); err != nil {
			return err
		}
	}
	return nil
}
