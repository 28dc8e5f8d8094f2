package stream_test

import (
	"context"
	"fmt"
	"testing"
)

// TestScanBackReadsNewestFirstAcrossChunks: ScanBack goes back through
// several read chunks, newest first, skips messages without an ID, and
// stops where visit says.
func TestScanBackReadsNewestFirstAcrossChunks(t *testing.T) {
	for name, cfg := range busConfigs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := openStream(t, cfg, "scan")
			const n = 700 // more than the first chunks (128, 256)
			var msgs []string
			for i := range n {
				h := map[string]string{"Nats-Msg-Id": fmt.Sprint("m", i)}
				if i%100 == 50 {
					h = nil
				}
				if _, err := s.Publish(ctx, []byte("x"), h); err != nil {
					t.Fatal(err)
				}
				if h != nil {
					msgs = append(msgs, h["Nats-Msg-Id"])
				}
			}
			var got []string
			whole, err := s.ScanBack(ctx, 1<<20, func(id string) bool {
				got = append(got, id)
				return id != "m3"
			})
			if err != nil || !whole {
				t.Fatalf("scan: %v, stopped by visit or the start: %v", err, whole)
			}
			for i, id := range got {
				if want := msgs[len(msgs)-1-i]; id != want {
					t.Fatalf("message %d back: %s, want %s", i, id, want)
				}
			}
			if got[len(got)-1] != "m3" {
				t.Fatalf("did not stop at m3: last %s", got[len(got)-1])
			}
			whole, err = s.ScanBack(ctx, 200, func(string) bool { return true })
			if err != nil || whole {
				t.Fatalf("a limit of 200 of %d: %v, whole %v", n, err, whole)
			}
		})
	}
}
