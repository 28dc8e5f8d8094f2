package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// healthGet fetches a health endpoint: status and body.
func healthGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := roomsHTTP.Get(url)
	must(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	must(t, err)
	return res.StatusCode, body
}

// TestHealth: /health answers while the process runs; /health/ready
// checks every database and NATS and turns 503 (naming the failing
// check) when one stops answering.
func TestHealth(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		if code, body := healthGet(t, inst.URL+"/health"); code != 200 || string(body) != "OK" {
			t.Fatalf("/health: %d %q", code, body)
		}
		var ready struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		code, body := healthGet(t, inst.URL+"/health/ready")
		must(t, json.Unmarshal(body, &ready))
		if code != 200 || ready.Status != "ok" || ready.Checks["nats"] != "ok" || ready.Checks["database:userapi"] != "ok" ||
			ready.Checks["database:roomserver"] != "ok" || ready.Checks["database:syncapi"] != "ok" {
			t.Fatalf("/health/ready: %d %s", code, body)
		}

		// Lose the log: not ready, and says which check fails.
		inst.Server.Base.Bus.Conn().Close()
		code, body = healthGet(t, inst.URL+"/health/ready")
		must(t, json.Unmarshal(body, &ready))
		if code != http.StatusServiceUnavailable || ready.Status != "failing" || ready.Checks["nats"] != "failing" || ready.Checks["database:userapi"] != "ok" {
			t.Fatalf("/health/ready without NATS: %d %s", code, body)
		}
		if code, _ := healthGet(t, inst.URL+"/health"); code != 200 {
			t.Fatalf("/health without NATS: %d (liveness must not depend on it)", code)
		}
	})
}
