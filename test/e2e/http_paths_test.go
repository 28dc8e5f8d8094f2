package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/axon-hs/axon/server/testserver"
)

// TestHTTPDoubleSlashPath: a path with "//" (or "/./") is answered with
// a Matrix 404 M_UNRECOGNIZED, never with the ServeMux's cleaning
// redirect, which clients would follow to another endpoint.
func TestHTTPDoubleSlashPath(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	c := inst.Register("slasher", "password123")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{
		"/_matrix/client/v3//account/whoami",
		"//_matrix/client/v3/account/whoami",
		"/_matrix/client/v3/./account/whoami",
		"/_matrix/client/v3/account/whoami/",
	} {
		req, err := http.NewRequest("GET", inst.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.AccessToken)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Errcode string }
		if resp.StatusCode != http.StatusNotFound || json.Unmarshal(raw, &body) != nil || body.Errcode != "M_UNRECOGNIZED" {
			t.Errorf("GET %s: %d %q, want 404 M_UNRECOGNIZED", path, resp.StatusCode, raw)
		}
	}
}
