package pushserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/pushserver/storage"
	syncapi "github.com/axon-hs/axon/syncapi/api"
)

// memorySource is a NotificationSource whose notifications the test
// commits one by one.
type memorySource struct {
	mu sync.Mutex
	ns []syncapi.PushNotification
}

func (s *memorySource) commit(n syncapi.PushNotification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ns = append(s.ns, n)
}

func (s *memorySource) PushNotificationsAfter(_ context.Context, _ string, after int64, limit int) ([]syncapi.PushNotification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []syncapi.PushNotification
	for _, n := range s.ns {
		if n.Pos > after && len(out) < limit {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *memorySource) PushCounts(context.Context, string) (syncapi.PushCounts, error) {
	return syncapi.PushCounts{Unread: 1}, nil
}

func (s *memorySource) PushPosition(context.Context) (int64, error) { return 0, nil }

// recordingGateway is a real local push gateway noting the event IDs it
// was sent.
type recordingGateway struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []string
}

func newRecordingGateway(t *testing.T) *recordingGateway {
	g := &recordingGateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body notifyRequest
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.events = append(g.events, body.Notification.EventID)
		g.mu.Unlock()
		_, _ = w.Write([]byte(`{"rejected":[]}`))
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *recordingGateway) got(eventID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Contains(g.events, eventID)
}

// TestPusherAddedDuringListingIsWoken: syncapi lists the members with a
// pusher inside its transaction and wakes them after the commit. A
// pusher delivery takes on between the two (at start-up, while syncapi
// catches up) read before the commit and was not listed; the wake-up
// after the commit must still reach it, or the notification waits for
// the next one.
func TestPusherAddedDuringListingIsWoken(t *testing.T) {
	storagetest.ForEachBackend(t, "pushserver", storage.Migrations, func(t *testing.T, db *istorage.DB) {
		gw := newRecordingGateway(t)
		src := &memorySource{}
		p := &PushServer{log: slog.Default(), db: storage.New(db), src: src, gw: newGatewayClient([]string{"127.0.0.0/8"})}
		wake := NewWakeups()
		wake.to.Store(p)
		ctx, cancel := context.WithCancel(context.Background())
		del := newDeliverer(ctx, p, p.gw)
		p.del.Store(del)
		t.Cleanup(func() { cancel(); del.wait(); del.forget() })

		pusher := storage.Pusher{UserID: "@bob:x", AppID: "app", PushKey: "k", Kind: "http", AppDisplayName: "App",
			DeviceDisplayName: "Phone", Lang: "en", Data: json.RawMessage(`{"url":"` + gw.srv.URL + `/_matrix/push/v1/notify"}`)}
		if _, err := p.db.SetPusher(ctx, pusher, false); err != nil {
			t.Fatal(err)
		}

		// In syncapi's transaction: nobody has a pusher yet.
		users, listed, ok := wake.PusherUsers(func(string) bool { return true })
		if !ok || len(users) != 0 {
			t.Fatalf("listing before any pusher: %v %v", users, ok)
		}
		// Delivery takes the pusher on and reads: nothing committed yet.
		del.add(pusher)
		testutil.Eventually(t, 10*time.Second, "the first read to finish", func() bool {
			del.mu.Lock()
			defer del.mu.Unlock()
			return !del.byUser[pusher.UserID][pusher.Key()].running
		})
		// The commit, then the wake-up with the listing's (empty) users.
		src.commit(syncapi.PushNotification{Pos: 1, EventID: "$hello", RoomID: "!r:x", Type: "m.room.message", Sender: "@alice:x"})
		wake.Notified(users, listed)
		testutil.Eventually(t, 10*time.Second, "the notification delivered", func() bool { return gw.got("$hello") })

		// A wake-up naming its users reaches them.
		src.commit(syncapi.PushNotification{Pos: 2, EventID: "$other", RoomID: "!r:x", Type: "m.room.message", Sender: "@alice:x"})
		wake.Notified([]string{pusher.UserID}, syncapi.NoPusherListing)
		testutil.Eventually(t, 10*time.Second, "the named user's notification delivered", func() bool { return gw.got("$other") })
	})
}
