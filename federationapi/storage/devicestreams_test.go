package storage

import (
	"context"
	"testing"
)

// A remote user's device list stream ID only moves forward: an equal or
// older one is reported as not recorded (a duplicate).
func TestRemoteDeviceStreams(t *testing.T) {
	forEach(t, func(t *testing.T, s *DB) {
		ctx := context.Background()
		const u = "@u:remote.example"
		if _, seen, err := s.RemoteDeviceStream(ctx, u); err != nil || seen {
			t.Fatalf("before any update: seen %v, %v", seen, err)
		}
		for _, c := range []struct {
			id   int64
			want bool
		}{{0, true}, {3, true}, {3, false}, {2, false}, {5, true}} {
			got, err := s.AdvanceRemoteDeviceStream(ctx, u, c.id)
			if err != nil || got != c.want {
				t.Fatalf("advance to %d: %v %v, want %v", c.id, got, err, c.want)
			}
		}
		if last, seen, err := s.RemoteDeviceStream(ctx, u); err != nil || !seen || last != 5 {
			t.Fatalf("last: %d %v %v, want 5", last, seen, err)
		}
	})
}
