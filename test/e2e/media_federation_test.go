package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestMediaFederation: a user on B downloads and thumbnails media
// uploaded on A, through the authenticated federation endpoint and, when
// A does not serve it, through the legacy download.
func TestMediaFederation(t *testing.T) {
	for _, c := range []struct {
		name        string
		newEndpoint bool
	}{{"federation v1 endpoint", true}, {"legacy fallback", false}} {
		t.Run(c.name, func(t *testing.T) {
			a := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
				testserver.Federated(t)(cfg)
				cfg.Media.ServeFederationMedia = c.newEndpoint
			}})
			b := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
			alice := a.Register("alice", "password123")
			bob := b.Register("bob", "password123")

			data := make([]byte, 200_000)
			_, _ = rand.Read(data)
			uri := mediaUpload(t, alice, data, "application/zip", "archive.zip")
			h, got := mediaDownload(t, bob, uri)
			if !bytes.Equal(got, data) {
				t.Fatal("remote download differs from the upload")
			}
			if h.Get("Content-Type") != "application/zip" || h.Get("Content-Disposition") != "attachment; filename=archive.zip" {
				t.Fatalf("remote headers: %q %q", h.Get("Content-Type"), h.Get("Content-Disposition"))
			}
			img := mediaJPEG(t, 640, 480)
			imgURI := mediaUpload(t, alice, img, "image/jpeg", "photo.jpg")
			cfg, format, _ := mediaThumbnailSize(t, bob, imgURI, 96, 96, "crop")
			if cfg.Width != 96 || cfg.Height != 96 || format != "jpeg" {
				t.Fatalf("remote thumbnail %dx%d %s", cfg.Width, cfg.Height, format)
			}
			// Cached: a second download makes no new fetch.
			before := b.Server.Media.RemoteFetches()
			if _, got := mediaDownload(t, bob, uri); !bytes.Equal(got, data) {
				t.Fatal("cached download differs")
			}
			if n := b.Server.Media.RemoteFetches(); n != before {
				t.Fatalf("cached media fetched again (%d -> %d)", before, n)
			}
			// Unknown remote media: 404.
			status, _, _ := mediaGet(t, b.URL+"/_matrix/client/v1/media/download/"+a.Cfg.ServerName+"/unknownMediaID", bob.AccessToken)
			if status != 404 {
				t.Fatalf("unknown remote media: %d", status)
			}
		})
	}
}

// TestMediaFederationEndpointAuth: the federation endpoint needs a valid
// X-Matrix signature and serves the multipart form.
func TestMediaFederationEndpointAuth(t *testing.T) {
	a := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	alice := a.Register("alice", "password123")
	uri := mediaUpload(t, alice, []byte("x"), "text/plain", "")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test certs
	resp, err := client.Get(a.FederationURL() + "/_matrix/federation/v1/media/download/" + uri.FileID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("unsigned federation media request: %d %s", resp.StatusCode, body)
	}
}

// TestMediaFederationConcurrentFetch: 50 local clients asking at once for
// the same remote file cause one federation fetch.
func TestMediaFederationConcurrentFetch(t *testing.T) {
	a := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	b := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	alice := a.Register("alice", "password123")
	bob := b.Register("bob", "password123")
	data := make([]byte, 2<<20)
	_, _ = rand.Read(data)
	uri := mediaUpload(t, alice, data, "application/octet-stream", "")
	url := b.URL + "/_matrix/client/v1/media/download/" + uri.Homeserver + "/" + uri.FileID
	errs := make(chan error, 50)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer "+bob.AccessToken)
			resp, err := acctHTTPClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err == nil && (resp.StatusCode != 200 || !bytes.Equal(got, data)) {
				err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, len(got))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := b.Server.Media.RemoteFetches(); n != 1 {
		t.Fatalf("%d federation fetches for 50 concurrent downloads, want 1", n)
	}
}
