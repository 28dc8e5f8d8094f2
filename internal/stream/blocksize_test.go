package stream_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
)

// The embedded store writes 4 MB blocks, not the 8 MB it picks for
// streams without limits (the write block is held in memory whole), and
// the per-subject limit that gets it there drops nothing: 6 MB published
// on one subject fill two blocks and every message is still there.
func TestEmbeddedStoreUsesSmallBlocksAndKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStream(t, stream.Config{StoreDir: dir, Prefix: "blocks"}, "room_events")
	payload := bytes.Repeat([]byte("x"), 64<<10)
	const n = 96 // 6 MB
	for i := range n {
		if _, err := s.Publish(ctx, payload, map[string]string{"room_id": "!r:x"}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	last, err := s.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last != n {
		t.Fatalf("last sequence %d, want %d", last, n)
	}
	var got atomic.Int64
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := s.Consume(cctx, "count", 0, unexpectedDeadLetter(t), func(_ context.Context, m stream.Message) error {
		got.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "every message consumed", func() bool { return got.Load() == n })
	var blocks []string
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(path, "blocks_room_events") && strings.HasSuffix(path, ".blk") {
			blocks = append(blocks, filepath.Base(path))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 2 {
		t.Fatalf("6 MB in blocks %v, want at least two (4 MB blocks)", blocks)
	}
}
