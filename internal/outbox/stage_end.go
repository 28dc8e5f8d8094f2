package outbox

import (
	"context"

	"github.com/axon-hs/axon/internal/storage"
)

// StageAtEnd is Stage for a caller whose transaction writes nothing
// after its outputs that it reads back, and which reads the entries'
// IDs only after the commit: the rows are written at the transaction's
// end (storage.Tx.AtEnd), in a SQLite group commit with the other
// callers' rows of this outbox in one INSERT. Into many rooms that is
// one statement per group instead of one per room.
func (o *Outbox) StageAtEnd(tx *storage.Tx, key string, msgs ...[]byte) []Entry {
	out := entries(key, msgs)
	if len(out) > 0 {
		tx.AtEnd(o.ends, out)
	}
	return out
}

// endStager merges the StageAtEnd rows of a transaction.
type endStager struct{ o *Outbox }

// Merge inserts every caller's entries, in order, and sets their IDs in
// the callers' slices.
func (s *endStager) Merge(ctx context.Context, tx *storage.Tx, items []any) error {
	if len(items) == 1 {
		return s.o.stageAll(ctx, tx, items[0].([]Entry))
	}
	var all []Entry
	for _, it := range items {
		all = append(all, it.([]Entry)...)
	}
	if err := s.o.stageAll(ctx, tx, all); err != nil {
		return err
	}
	for _, it := range items {
		n := copy(it.([]Entry), all)
		all = all[n:]
	}
	return nil
}
