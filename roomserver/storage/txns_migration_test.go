package storage_test

import (
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/storage"
)

// TestClientTxnsSurviveRekey: a transaction recorded before migration 8
// (which rebuilds roomserver_txns keyed by transaction ID first) is still
// found afterwards, and claiming it again names the first event.
func TestClientTxnsSurviveRekey(t *testing.T) {
	var before []int
	for i, m := range storage.Migrations {
		if m.Version < 8 {
			before = append(before, i)
		}
	}
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "roomserver", storage.Migrations[:len(before)])
			_, err := db.ExecContext(ctx, `INSERT INTO roomserver_txns (user_id, device_id, room_id, txn_id, event_id) VALUES ('@u:x', 'D', '!r:x', 't1', '$old')`)
			must(t, err)
			must(t, db.Migrate(ctx, "roomserver", storage.Migrations))
			d := storage.New(db)
			if id, err := d.TxnEvent(ctx, d, "@u:x", "D", "!r:x", "t1"); err != nil || id != "$old" {
				t.Fatalf("txn after the migration: %q %v", id, err)
			}
			var first string
			write(t, d, func(tx *istorage.Tx) (err error) {
				first, err = d.ClaimTxn(ctx, tx, "@u:x", "D", "!r:x", "t1", "$new")
				return err
			})
			if first != "$old" {
				t.Fatalf("repeat after the migration: first = %q, want $old", first)
			}
		})
	}
}
