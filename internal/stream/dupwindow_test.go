package stream

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestDuplicateWindowByEngine: the embedded log keeps message IDs a few
// seconds (outboxes read the stream's tail instead), an external one
// JetStream's two minutes; a stream shorter-lived than that gets its age.
func TestDuplicateWindowByEngine(t *testing.T) {
	prefix := fmt.Sprintf("axontestdup%d", time.Now().UnixNano())
	cfgs := map[string]Config{"embedded": {StoreDir: t.TempDir(), Prefix: prefix}}
	want := map[string]time.Duration{"embedded": EmbeddedDuplicateWindow, "external": ExternalDuplicateWindow}
	if os.Getenv("AXON_SKIP_NATS") != "1" {
		cfgs["external"] = Config{URLs: []string{"nats://127.0.0.1:4222"}, Prefix: prefix, InMemory: true}
	}
	for name, cfg := range cfgs {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			bus, err := Connect(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer bus.Close()
			defer func() { _ = bus.DeleteStreams(ctx) }()
			for maxAge, w := range map[time.Duration]time.Duration{time.Hour: want[name], 5 * time.Second: 5 * time.Second} {
				s, err := bus.Stream(ctx, fmt.Sprint("dup", int(maxAge.Seconds())), maxAge, 0)
				if err != nil {
					t.Fatal(err)
				}
				info, err := s.info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := info.Config.Duplicates; got != min(w, maxAge) {
					t.Fatalf("max age %s: duplicate window %s, want %s", maxAge, got, min(w, maxAge))
				}
			}
		})
	}
}
