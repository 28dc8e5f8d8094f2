package outbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// resettingLog is a memLog that can lose everything, as a NATS whose
// store is lost and whose stream is then created again.
type resettingLog struct {
	memLog
	resets atomic.Uint64
}

func (l *resettingLog) Resets() uint64 { return l.resets.Load() }

func (l *resettingLog) lose() {
	l.mu.Lock()
	l.msgs, l.ids = nil, nil
	l.mu.Unlock()
	l.resets.Add(1)
}

// TestRetainedRowsReplayedAfterReset: a retaining outbox publishes its
// retained rows again, in order and before anything newer, when the
// stream was created again; a restart does not publish them again.
func TestRetainedRowsReplayedAfterReset(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			rcfg := cfg
			rcfg.Retain = time.Hour
			db, err := storage.Open(ctx, b.NewDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx, "test", []storage.Migration{{Version: 1, Name: "outbox", SQL: Schema(rcfg.Table) + ";\n" + RetainSchema(rcfg.Table)}}); err != nil {
				t.Fatal(err)
			}
			log := &resettingLog{}
			o := New(db, log, rcfg)
			if err := o.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := stageAndSend(t, ctx, db, o, "1", "2", "3"); err != nil {
				t.Fatal(err)
			}
			log.lose()
			if err := stageAndSend(t, ctx, db, o, "4"); err != nil {
				t.Fatal(err)
			}
			if got := log.got(); fmt.Sprint(got) != "[1 2 3 4]" {
				t.Fatalf("published after the reset: %v", got)
			}
			o.Close()
			fresh := &resettingLog{}
			o2 := New(db, fresh, rcfg)
			if err := o2.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := stageAndSend(t, ctx, db, o2, "5"); err != nil {
				t.Fatal(err)
			}
			o2.Close()
			if got := fresh.got(); fmt.Sprint(got) != "[5]" {
				t.Fatalf("published after a restart: %v", got)
			}
		})
	}
}
