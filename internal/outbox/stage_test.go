package outbox

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// TestStageManyInOneCall: a call staging more messages than one INSERT
// takes gives each entry the row holding its own message, in order, and
// a later run publishes them from the table in that order.
func TestStageManyInOneCall(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t, b.NewDSN(t))
			defer db.Close()
			var msgs [][]byte
			var want []string
			for i := range stageRows + 6 {
				msgs = append(msgs, []byte(strconv.Itoa(i)))
				want = append(want, strconv.Itoa(i))
			}
			var entries []Entry
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				var err error
				entries, err = New(db, &memLog{}, cfg).Stage(ctx, tx, "key", msgs...)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for i, e := range entries {
				var data string
				if err := db.QueryRowContext(ctx, `SELECT output_json FROM test_outbox WHERE outbox_id = $1`, e.ID).Scan(&data); err != nil {
					t.Fatal(err)
				}
				if data != want[i] || string(e.Data) != want[i] {
					t.Fatalf("entry %d (ID %d) holds %q, row %q", i, e.ID, e.Data, data)
				}
			}
			log := &memLog{}
			o := New(db, log, cfg)
			if err := o.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			testutil.Eventually(t, 10*time.Second, "the staged rows published on start", func() bool { return len(log.got()) == len(want) })
			if got := log.got(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("published %v", got)
			}
		})
	}
}

// TestStageAtCommit: a message staged at the commit is in the table and
// has its row's ID once the transaction commits (on PostgreSQL not
// before), is published from there, and is not written if the
// transaction fails.
func TestStageAtCommit(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, log, o := startOutbox(t, b)
			rows := func() int {
				var n int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM test_outbox`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			errUndo := fmt.Errorf("undo")
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				_, err := o.StageAtCommit(ctx, tx, "key", []byte("undone"))
				if err != nil {
					return err
				}
				return errUndo
			}); err != errUndo || rows() != 0 {
				t.Fatalf("failed transaction: %v, %d rows", err, rows())
			}
			var entries []Entry
			if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
				var err error
				if entries, err = o.StageAtCommit(ctx, tx, "key", []byte("one")); err != nil {
					return err
				}
				if b.Name == "postgres" && entries[0].ID != 0 {
					t.Error("ID set before the commit")
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var data string
			if err := db.QueryRowContext(ctx, `SELECT output_json FROM test_outbox WHERE outbox_id = $1`, entries[0].ID).Scan(&data); err != nil || data != "one" {
				t.Fatalf("row of ID %d: %q %v", entries[0].ID, data, err)
			}
			if err := o.Send(ctx, entries); err != nil {
				t.Fatal(err)
			}
			if got := log.got(); fmt.Sprint(got) != "[one]" {
				t.Fatalf("published %v", got)
			}
		})
	}
}
