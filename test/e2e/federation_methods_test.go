package e2e

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/axon-hs/axon/server/testserver"
)

// A known federation or key path with the wrong method is 405
// M_UNRECOGNIZED, an unknown one 404 M_UNRECOGNIZED (Complement
// TestUnknownEndpoints, which probes them through the client port). With
// a federation listener of its own, the client listener answers those
// paths too, the same way.
func TestFederationWrongMethodIs405(t *testing.T) {
	a := fedStart(t, testserver.Options{}, "127.0.0.1")
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test certs
	for _, base := range []string{a.FederationURL(), a.URL} {
		probeFederationPaths(t, https, base)
	}
	// Client paths stay on the client listener only.
	resp, err := https.Get(a.FederationURL() + "/_matrix/client/versions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("client path on the federation listener: %d, want 404", resp.StatusCode)
	}
}

func probeFederationPaths(t *testing.T, https *http.Client, base string) {
	t.Helper()
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"PUT", "/_matrix/federation/v1/version", http.StatusMethodNotAllowed},
		{"PUT", "/_matrix/key/v2/query", http.StatusMethodNotAllowed},
		{"POST", "/_matrix/federation/v1/send/txn1", http.StatusMethodNotAllowed},
		{"GET", "/_matrix/federation/v1/unknown", http.StatusNotFound},
		{"GET", "/_matrix/key/v2/unknown", http.StatusNotFound},
	} {
		req, err := http.NewRequest(c.method, base+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := https.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			ErrCode string `json:"errcode"`
		}
		decErr := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if decErr != nil || resp.StatusCode != c.code || body.ErrCode != "M_UNRECOGNIZED" {
			t.Errorf("%s: %s %s: %d %q (%v), want %d M_UNRECOGNIZED", base, c.method, c.path, resp.StatusCode, body.ErrCode, decErr, c.code)
		}
	}
}
