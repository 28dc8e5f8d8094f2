package outbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
)

// logConfigs: the embedded NATS and, unless AXON_SKIP_NATS=1, the one on
// 127.0.0.1:4222, both with JetStream's shortest duplicate window so a
// test can outlast it.
func logConfigs(t *testing.T) map[string]stream.Config {
	prefix := fmt.Sprintf("axonobtest%d", time.Now().UnixNano())
	out := map[string]stream.Config{
		"embedded": {StoreDir: t.TempDir(), Prefix: prefix, DuplicateWindow: 100 * time.Millisecond},
	}
	if os.Getenv("AXON_SKIP_NATS") != "1" {
		url := os.Getenv("AXON_TEST_NATS")
		if url == "" {
			url = "nats://127.0.0.1:4222"
		}
		out["external"] = stream.Config{URLs: []string{url}, Prefix: prefix, InMemory: true, DuplicateWindow: 100 * time.Millisecond}
	}
	return out
}

func openLog(t *testing.T, cfg stream.Config) *stream.Stream {
	t.Helper()
	ctx := context.Background()
	bus, err := stream.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bus.DeleteStreams(ctx) // the external server is shared
		bus.Close()
	})
	s, err := bus.Stream(ctx, "outbox", time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var probes atomic.Int64

// pastWindow waits until the log no longer drops a repeated message ID:
// a probe published again gets a new sequence.
func pastWindow(ctx context.Context, s *stream.Stream) error {
	h := map[string]string{"Nats-Msg-Id": fmt.Sprint("probe-", probes.Add(1))}
	first, err := s.Publish(ctx, []byte("probe"), h)
	if err != nil {
		return err
	}
	var perr error
	if !testutil.Within(10*time.Second, func() bool {
		seq, err := s.Publish(ctx, []byte("probe"), h)
		perr = err
		return err != nil || seq != first
	}) {
		return errors.New("the duplicate window did not pass")
	}
	return perr
}

// outboxIDs are the outbox's message IDs on the stream, oldest first.
func outboxIDs(t *testing.T, s *stream.Stream) []string {
	t.Helper()
	var ids []string
	if _, err := s.ScanBack(context.Background(), 1<<30, func(id string) bool {
		if strings.HasPrefix(id, cfg.MsgIDPrefix) {
			ids = append(ids, id)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ids)
	return ids
}

// stageOnly commits one row per value without publishing.
func stageOnly(t *testing.T, db *storage.DB, values ...string) []Entry {
	t.Helper()
	ctx := context.Background()
	o := New(db, nil, cfg)
	var all []Entry
	for _, v := range values {
		if err := db.WriteTx(ctx, func(tx *storage.Tx) error {
			entries, err := o.Stage(ctx, tx, "key", []byte(v))
			all = append(all, entries...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

func wantEach(t *testing.T, s *stream.Stream, entries []Entry) {
	t.Helper()
	var want []string
	for _, e := range entries {
		want = append(want, cfg.MsgIDPrefix+fmt.Sprint(e.ID))
	}
	if got := outboxIDs(t, s); !slices.Equal(got, want) {
		t.Fatalf("on the stream: %v, want each row once, in order: %v", got, want)
	}
}

// TestRestartSkipsWhatIsOnTheStream: a run published some rows and died
// before marking them; the next run, started after the duplicate window,
// publishes the rest (no loss) and none of those again (no duplicate).
func TestRestartSkipsWhatIsOnTheStream(t *testing.T) {
	for name, lcfg := range logConfigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := openLog(t, lcfg)
			db := open(t, storagetest.SQLiteDSN(t))
			defer db.Close()
			entries := stageOnly(t, db, "1", "2", "3", "4", "5")
			// What the run that died published: the first three, with
			// another publisher's message between them.
			for i, e := range entries[:3] {
				if _, err := s.Publish(ctx, e.Data, map[string]string{"Nats-Msg-Id": cfg.MsgIDPrefix + fmt.Sprint(e.ID)}); err != nil {
					t.Fatal(err)
				}
				if i == 1 {
					if _, err := s.Publish(ctx, []byte("other"), map[string]string{"Nats-Msg-Id": fmt.Sprint("other-", e.ID+100)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := pastWindow(ctx, s); err != nil {
				t.Fatal(err)
			}
			o := New(db, s, cfg)
			if err := o.Start(ctx); err != nil {
				t.Fatal(err)
			}
			testutil.Eventually(t, 20*time.Second, "the rows published and marked", func() bool { return rowCount(t, db) == 0 })
			o.Close()
			wantEach(t, s, entries)
		})
	}
}

// lostAcks is a stream whose first batch reaches the log but whose
// acknowledgements are lost, and the retry comes after the duplicate
// window.
type lostAcks struct {
	*stream.Stream
	lost atomic.Bool
}

func (l *lostAcks) PublishBatch(ctx context.Context, msgs []stream.OutMsg) (int, error) {
	if !l.lost.CompareAndSwap(false, true) {
		return l.Stream.PublishBatch(ctx, msgs)
	}
	if _, err := l.Stream.PublishBatch(ctx, msgs); err != nil {
		return 0, err
	}
	if err := pastWindow(ctx, l.Stream); err != nil {
		return 0, err
	}
	return 0, errors.New("nats: timeout")
}

// TestRetrySkipsWhatReachedTheLog: a batch whose acknowledgements were
// lost is not published again, however late the retry.
func TestRetrySkipsWhatReachedTheLog(t *testing.T) {
	for name, lcfg := range logConfigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := &lostAcks{Stream: openLog(t, lcfg)}
			db := open(t, storagetest.SQLiteDSN(t))
			defer db.Close()
			entries := stageOnly(t, db, "1", "2", "3")
			o := New(db, s, cfg) // publishes the rows on start
			if err := o.Start(ctx); err != nil {
				t.Fatal(err)
			}
			testutil.Eventually(t, 20*time.Second, "the rows published and marked", func() bool { return rowCount(t, db) == 0 })
			o.Close()
			if !s.lost.Load() {
				t.Fatal("the acknowledgements were never lost")
			}
			wantEach(t, s.Stream, entries)
		})
	}
}
