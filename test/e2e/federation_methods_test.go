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
// TestUnknownEndpoints, which probes them through the client port; with
// a separate federation listener this is where they are served).
func TestFederationWrongMethodIs405(t *testing.T) {
	a := fedStart(t, testserver.Options{}, "127.0.0.1")
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test certs
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
		req, err := http.NewRequest(c.method, a.FederationURL()+c.path, nil)
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
			t.Errorf("%s %s: %d %q (%v), want %d M_UNRECOGNIZED", c.method, c.path, resp.StatusCode, body.ErrCode, decErr, c.code)
		}
	}
}
