package streampos

import (
	"context"
	"errors"
	"testing"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
)

func TestGetSet(t *testing.T) {
	migrations := []storage.Migration{{Version: 1, Name: "positions", SQL: Schema("test_positions")}}
	storagetest.ForEachBackend(t, "test", migrations, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if seq, err := Get(ctx, db, "test_positions", "s"); err != nil || seq != 0 {
			t.Fatalf("fresh: %d %v", seq, err)
		}
		for _, want := range []uint64{5, 9} {
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error { return Set(ctx, tx, "test_positions", "s", want) }); err != nil {
				t.Fatal(err)
			}
			if seq, err := Get(ctx, db, "test_positions", "s"); err != nil || seq != want {
				t.Fatalf("after set %d: %d %v", want, seq, err)
			}
		}
	})
}

// TestDeadLetterer: a dead-lettered message is recorded with its error
// (even one quoting NUL and invalid UTF-8) and the position moves past it.
func TestDeadLetterer(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			tables := Tables{Positions: "test_positions", DeadLetters: "test_dead_letters"}
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "test", []storage.Migration{{Version: 1, Name: "positions", SQL: Schema(tables.Positions) + "\n" + DeadLetterSchema(tables.DeadLetters)}})
			dl := tables.DeadLetterer(db, "room_events")
			data := []byte("{\"a\":\"\x00\xff\"}")
			if err := dl(ctx, stream.Message{Seq: 7, Data: data}, errors.New("bad \x00 byte \xff")); err != nil {
				t.Fatal(err)
			}
			if seq, err := Get(ctx, db, tables.Positions, "room_events"); err != nil || seq != 7 {
				t.Fatalf("position after dead letter: %d %v", seq, err)
			}
			got, err := DeadLetters(ctx, db, tables.DeadLetters)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Stream != "room_events" || got[0].Seq != 7 || string(got[0].Data) != string(data) || got[0].Error != `bad \u0000 byte `+"\uFFFD" {
				t.Fatalf("dead letters: %+v", got)
			}
		})
	}
}
