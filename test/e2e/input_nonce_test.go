package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/axon-hs/axon/server/testserver"
)

// TestInputSharedSecretNoncesPerIP: one IP asking for nonces in bulk is
// limited (with a retry hint that says when one of its nonces expires),
// while another IP still gets nonces.
func TestInputSharedSecretNoncesPerIP(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	url := inst.URL + "/_synapse/admin/v1/register"
	const perIP = 1000 // clientapi maxNoncesPerIP
	for i := range perIP {
		r := acctDo(t, "GET", url, "", nil)
		if r.Status != http.StatusOK || r.str("nonce") == "" {
			t.Fatalf("nonce %d: %d %s", i, r.Status, r.Raw)
		}
	}
	r := acctDo(t, "GET", url, "", nil)
	acctExpect(t, "nonce over the per-IP cap", r, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	if ms, _ := r.Body["retry_after_ms"].(float64); ms < 30_000 || ms > 60_000 {
		t.Fatalf("retry_after_ms %v: the first nonce expires in about a minute", r.Body["retry_after_ms"])
	}

	// From 127.0.0.2: still a nonce.
	other := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
		return d.DialContext(ctx, network, addr)
	}}}
	resp, err := other.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var body struct {
		Nonce string `json:"nonce"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &body) != nil || body.Nonce == "" {
		t.Fatalf("another IP got %d %s", resp.StatusCode, data)
	}
}
