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
		d := startTestDelivery(t, db)
		wake := NewWakeups(false)
		wake.to.Store(d.p)

		// In syncapi's transaction: nobody has a pusher yet.
		users, listed, ok := wake.PusherUsers(func(string) bool { return true })
		if !ok || len(users) != 0 {
			t.Fatalf("listing before any pusher: %v %v", users, ok)
		}
		// Delivery takes the pusher on and reads: nothing committed yet.
		d.addAndRead(t)
		// The commit, then the wake-up with the listing's (empty) users.
		d.src.commit(syncapi.PushNotification{Pos: 1, EventID: "$hello", RoomID: "!r:x", Type: "m.room.message", Sender: "@alice:x"})
		wake.Notified(users, listed)
		testutil.Eventually(t, 10*time.Second, "the notification delivered", func() bool { return d.gw.got("$hello") })

		// A wake-up naming its users reaches them.
		d.src.commit(syncapi.PushNotification{Pos: 2, EventID: "$other", RoomID: "!r:x", Type: "m.room.message", Sender: "@alice:x"})
		wake.Notified([]string{d.pusher.UserID}, syncapi.NoPusherListing)
		testutil.Eventually(t, 10*time.Second, "the named user's notification delivered", func() bool { return d.gw.got("$other") })
	})
}

// TestReplicaDroppedWakeupsCatchUp: a syncapi replica's wake-ups before
// its pushserver exists are dropped, while delivery may run in another
// process; the drop is noted, and the catch-up signal it leads to has
// every pusher read what it has not delivered. A replica's listing
// always names everyone (delivery is elsewhere).
func TestReplicaDroppedWakeupsCatchUp(t *testing.T) {
	wake := NewWakeups(true)
	if _, _, ok := wake.PusherUsers(func(string) bool { return true }); ok {
		t.Fatal("a replica's listing must name every notified user")
	}
	wake.Notified([]string{"@bob:x"}, syncapi.NoPusherListing)
	if !wake.missed.Load() {
		t.Fatal("a wake-up dropped before the pushserver was not noted")
	}
	if one := NewWakeups(false); one.target() != nil || one.missed.Load() {
		t.Fatal("one pushserver needs no catch-up")
	}
	storagetest.ForEachBackend(t, "pushserver", storage.Migrations, func(t *testing.T, db *istorage.DB) {
		d := startTestDelivery(t, db)
		d.addAndRead(t)
		d.src.commit(syncapi.PushNotification{Pos: 1, EventID: "$dropped", RoomID: "!r:x", Type: "m.room.message", Sender: "@alice:x"})
		d.p.apply(signalMsg{CatchUp: true}, nil)
		testutil.Eventually(t, 10*time.Second, "the dropped wake-up's notification delivered", func() bool { return d.gw.got("$dropped") })
	})
}

// testDelivery is a pushserver delivering from memory to a local gateway.
type testDelivery struct {
	p      *PushServer
	del    *deliverer
	src    *memorySource
	gw     *recordingGateway
	pusher storage.Pusher
}

func startTestDelivery(t *testing.T, db *istorage.DB) *testDelivery {
	d := &testDelivery{src: &memorySource{}, gw: newRecordingGateway(t)}
	d.p = &PushServer{log: slog.Default(), db: storage.New(db), src: d.src, gw: newGatewayClient([]string{"127.0.0.0/8"})}
	ctx, cancel := context.WithCancel(context.Background())
	d.del = newDeliverer(ctx, d.p, d.p.gw)
	d.p.del.Store(d.del)
	t.Cleanup(func() { cancel(); d.del.wait(); d.del.forget() })
	d.pusher = storage.Pusher{UserID: "@bob:x", AppID: "app", PushKey: "k", Kind: "http", AppDisplayName: "App",
		DeviceDisplayName: "Phone", Lang: "en", Data: json.RawMessage(`{"url":"` + d.gw.srv.URL + `/_matrix/push/v1/notify"}`)}
	if _, err := d.p.db.SetPusher(ctx, d.pusher, false); err != nil {
		t.Fatal(err)
	}
	return d
}

// addAndRead has delivery take the pusher on and waits for its first
// read (of nothing) to end.
func (d *testDelivery) addAndRead(t *testing.T) {
	d.del.add(d.pusher)
	testutil.Eventually(t, 10*time.Second, "the first read to finish", func() bool {
		d.del.mu.Lock()
		defer d.del.mu.Unlock()
		return !d.del.byUser[d.pusher.UserID][d.pusher.Key()].running
	})
}
