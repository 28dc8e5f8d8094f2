package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/axon-hs/axon/internal/storage"
)

// Room heads written together. Into many rooms a SQLite group commit
// holds one batch of each of several rooms, and each batch ended with its
// own UPDATE of its room's row; they are now one statement per group.

// roomHead is one room's new head (UpdateRoomHead).
type roomHead struct {
	nid, snapshot, depth int64
	extremities          string
}

type roomHeadMerger struct{}

// roomHeads is the Merger of room head writes (a pointer: Mergers are
// told apart by identity).
var roomHeads = &roomHeadMerger{}

// maxHeadRows bounds the rows of one UPDATE (4 arguments each).
const maxHeadRows = 64

func (*roomHeadMerger) Merge(ctx context.Context, tx *storage.Tx, items []any) error {
	// A room's worker runs one batch at a time, so a room is in a group
	// once; were it there twice, its last head wins.
	last := make(map[int64]int, len(items))
	heads := make([]*roomHead, 0, len(items))
	for _, it := range items {
		h := it.(*roomHead)
		if i, ok := last[h.nid]; ok {
			heads[i] = h
			continue
		}
		last[h.nid] = len(heads)
		heads = append(heads, h)
	}
	return storage.Runs(len(heads), maxHeadRows, func(lo, hi int) error {
		return updateHeads(ctx, tx, heads[lo:hi])
	})
}

// updateHeads writes heads with one statement (on PostgreSQL, sent with
// the COMMIT).
func updateHeads(ctx context.Context, tx *storage.Tx, heads []*roomHead) error {
	if len(heads) == 1 {
		h := heads[0]
		return tx.ExecAtCommit(ctx, `UPDATE roomserver_rooms SET snapshot_nid = $1, extremities = $2, depth = $3 WHERE room_nid = $4`,
			h.snapshot, h.extremities, h.depth, h.nid)
	}
	var q strings.Builder
	q.WriteString(`UPDATE roomserver_rooms SET snapshot_nid = v.column2, extremities = v.column3, depth = v.column4 FROM (VALUES `)
	args := make([]any, 0, 4*len(heads))
	for i, h := range heads {
		if i > 0 {
			q.WriteString(", ")
		}
		n := 4 * i
		fmt.Fprintf(&q, "(CAST($%d AS BIGINT), CAST($%d AS BIGINT), CAST($%d AS TEXT), CAST($%d AS BIGINT))", n+1, n+2, n+3, n+4)
		args = append(args, h.nid, h.snapshot, h.extremities, h.depth)
	}
	q.WriteString(`) AS v WHERE room_nid = v.column1`)
	return tx.ExecAtCommit(ctx, q.String(), args...)
}
