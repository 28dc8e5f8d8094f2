package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
)

// pushGateway is a real local push gateway: it records every notify, and
// can be told to fail (down) or to reject pushkeys.
type pushGateway struct {
	srv *httptest.Server

	mu       sync.Mutex
	got      []pushNotify
	down     bool
	rejected map[string]bool
	// arrived, when set, gets each notified event ID (benchmarks).
	arrived chan string
}

// pushNotify is the notification object of one POST, as received.
type pushNotify struct {
	EventID           string          `json:"event_id"`
	RoomID            string          `json:"room_id"`
	Type              string          `json:"type"`
	Sender            string          `json:"sender"`
	SenderDisplayName string          `json:"sender_display_name"`
	RoomName          string          `json:"room_name"`
	Prio              string          `json:"prio"`
	Content           json.RawMessage `json:"content"`
	Counts            map[string]int  `json:"counts"`
	Devices           []struct {
		AppID   string                     `json:"app_id"`
		PushKey string                     `json:"pushkey"`
		Data    map[string]json.RawMessage `json:"data"`
		Tweaks  map[string]json.RawMessage `json:"tweaks"`
	} `json:"devices"`
}

func newPushGateway(t testing.TB) *pushGateway {
	g := &pushGateway{rejected: map[string]bool{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_matrix/push/v1/notify" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		data, _ := io.ReadAll(r.Body)
		var body struct {
			Notification pushNotify `json:"notification"`
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if err := json.Unmarshal(data, &body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		g.got = append(g.got, body.Notification)
		if g.arrived != nil && body.Notification.EventID != "" {
			g.arrived <- body.Notification.EventID
		}
		rejected := []string{}
		for _, d := range body.Notification.Devices {
			if g.rejected[d.PushKey] {
				rejected = append(rejected, d.PushKey)
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"rejected": rejected})
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *pushGateway) url() string { return g.srv.URL + "/_matrix/push/v1/notify" }

func (g *pushGateway) setDown(down bool) {
	g.mu.Lock()
	g.down = down
	g.mu.Unlock()
}

func (g *pushGateway) reject(pushkey string) {
	g.mu.Lock()
	g.rejected[pushkey] = true
	g.mu.Unlock()
}

// find returns the notifications received for pushkey matching cond.
func (g *pushGateway) find(pushkey string, cond func(n pushNotify) bool) []pushNotify {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []pushNotify
	for _, n := range g.got {
		for _, d := range n.Devices {
			if d.PushKey == pushkey && cond(n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// forEvent matches the notification about eventID.
func forEvent(eventID string) func(pushNotify) bool {
	return func(n pushNotify) bool { return n.EventID == eventID }
}

// allowLoopbackGateways lets pushers use the test's local gateway.
func allowLoopbackGateways(cfg *config.Config) {
	cfg.Push.AllowedPrivateNetworks = []string{"127.0.0.0/8"}
}

// pushSet calls POST /pushers/set with an http pusher to gw.
func pushSet(t testing.TB, c *mautrix.Client, gw *pushGateway, pushkey string, data map[string]any, extra map[string]any) roomsRaw {
	t.Helper()
	if data == nil {
		data = map[string]any{}
	}
	data["url"] = gw.url()
	body := map[string]any{"kind": "http", "app_id": "org.example.app", "pushkey": pushkey, "app_display_name": "Example",
		"device_display_name": "Phone", "lang": "en", "data": data}
	for k, v := range extra {
		body[k] = v
	}
	return roomsDo(t, c, "POST", "/_matrix/client/v3/pushers/set", body)
}

// pushKeys lists the pushkeys GET /pushers returns for c.
func pushKeys(t testing.TB, c *mautrix.Client) []string {
	t.Helper()
	r := roomsDo(t, c, "GET", "/_matrix/client/v3/pushers", nil)
	if r.Status != 200 {
		t.Fatalf("GET /pushers: %d %v", r.Status, r.Body)
	}
	var out []string
	ps, _ := r.Body["pushers"].([]any)
	for _, p := range ps {
		m, _ := p.(map[string]any)
		k, _ := m["pushkey"].(string)
		out = append(out, k)
	}
	return out
}
