package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
)

// memLog records publications; while down it fails them.
type memLog struct {
	down atomic.Bool
	mu   sync.Mutex
	msgs []string
	ids  []string
}

func (l *memLog) Publish(_ context.Context, data []byte, h map[string]string) (uint64, error) {
	if l.down.Load() {
		return 0, errors.New("nats: no servers available")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, string(data))
	l.ids = append(l.ids, h["Nats-Msg-Id"]+"/"+h["k"])
	return uint64(len(l.msgs)), nil
}

func (l *memLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

var cfg = Config{Table: "test_outbox", KeyHeader: "k", MsgIDPrefix: "t-"}

func open(t *testing.T, dsn string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), "test", []storage.Migration{{Version: 1, Name: "outbox", SQL: Schema(cfg.Table)}}); err != nil {
		t.Fatal(err)
	}
	return db
}

// startOutbox opens a fresh outbox table on b and starts an outbox
// publishing to an in-memory log; both close when the test ends.
func startOutbox(t *testing.T, b storagetest.Backend) (*storage.DB, *memLog, *Outbox) {
	t.Helper()
	db := open(t, b.NewDSN(t))
	t.Cleanup(func() { db.Close() })
	log := &memLog{}
	o := New(db, log, cfg)
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Close)
	return db, log, o
}

// stageAndSend commits one message per value and sends it.
func stageAndSend(t *testing.T, ctx context.Context, db *storage.DB, o *Outbox, values ...string) error {
	t.Helper()
	for _, v := range values {
		var entries []Entry
		if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
			var err error
			entries, err = o.Stage(ctx, tx, "key", []byte(v))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := o.Send(ctx, entries); err != nil {
			return err
		}
	}
	return nil
}

func rowCount(t *testing.T, db *storage.DB) int {
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM test_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOutboxPublishesInOrderAndSurvivesOutage(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t, b.NewDSN(t))
			defer db.Close()
			log := &memLog{}
			o := New(db, log, cfg)
			if err := o.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := stageAndSend(t, ctx, db, o, "1", "2"); err != nil {
				t.Fatal(err)
			}
			if got := log.got(); fmt.Sprint(got) != "[1 2]" {
				t.Fatalf("published %v", got)
			}
			if log.ids[0] == "" || log.ids[0][len(log.ids[0])-4:] != "/key" {
				t.Fatalf("headers: %v", log.ids)
			}
			// Log down: Send gives up waiting, nothing is lost.
			log.down.Store(true)
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			err := stageAndSend(t, short, db, o, "3")
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("send while down: %v", err)
			}
			o.Close()
			if n := rowCount(t, db); n < 1 {
				t.Fatalf("%d rows left after outage", n)
			}
			// The next run publishes the leftovers first, then new ones.
			log.down.Store(false)
			o2 := New(db, log, cfg)
			if err := o2.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := stageAndSend(t, ctx, db, o2, "4"); err != nil {
				t.Fatal(err)
			}
			if got := log.got(); fmt.Sprint(got) != "[1 2 3 4]" {
				t.Fatalf("published %v", got)
			}
			o2.Close()
			if n := rowCount(t, db); n != 0 {
				t.Fatalf("%d published rows not deleted", n)
			}
		})
	}
}

// Without a log, rows wait in the table for a process that has one.
func TestOutboxWithoutLog(t *testing.T) {
	ctx := context.Background()
	db := open(t, storagetest.SQLiteDSN(t))
	defer db.Close()
	o := New(db, nil, cfg)
	if err := o.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := stageAndSend(t, ctx, db, o, "a"); err != nil {
		t.Fatal(err)
	}
	o.Close()
	log := &memLog{}
	o2 := New(db, log, cfg)
	if err := o2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	testutil.Within(5*time.Second, func() bool { return len(log.got()) > 0 })
	if got := log.got(); fmt.Sprint(got) != "[a]" {
		t.Fatalf("published %v", got)
	}
}
