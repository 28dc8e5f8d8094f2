package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"image"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/federationapi"
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
			if !c.newEndpoint { // A really lacks the endpoint: B must have used the legacy one
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				resp, err := federationapi.NewRawClient(b.Cfg).Get(ctx, a.Cfg.ServerName, "/_matrix/federation/v1/media/download/"+uri.FileID, true)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body) // before cancel: the body is read under ctx
				resp.Body.Close()
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != 404 || !strings.Contains(string(body), "M_UNRECOGNIZED") {
					t.Fatalf("A with serve_federation_media off: %d %s", resp.StatusCode, body)
				}
			}
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

// TestMediaFederationEndpoints: the federation endpoints need a valid
// X-Matrix signature and answer in the multipart form (JSON metadata,
// then the content).
func TestMediaFederationEndpoints(t *testing.T) {
	a := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	b := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	alice := a.Register("alice", "password123")
	textURI := mediaUpload(t, alice, []byte("plain text"), "text/plain", "note.txt")
	imgURI := mediaUpload(t, alice, mediaPNG(t, 300, 200), "image/png", "")

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test certs
	resp, err := client.Get(a.FederationURL() + "/_matrix/federation/v1/media/download/" + textURI.FileID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("unsigned federation media request: %d %s", resp.StatusCode, body)
	}

	// Signed by B, as B's media fetches are.
	signed := federationapi.NewRawClient(b.Cfg)
	get := func(uri string) (textproto.MIMEHeader, []byte) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := signed.Get(ctx, a.Cfg.ServerName, uri, true)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 200 || mt != "multipart/mixed" {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: %d %s %s", uri, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		mr := multipart.NewReader(resp.Body, params["boundary"])
		meta, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		metaBody, _ := io.ReadAll(meta)
		if meta.Header.Get("Content-Type") != "application/json" || string(metaBody) != "{}" {
			t.Fatalf("metadata part %v %q", meta.Header, metaBody)
		}
		content, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(content)
		return content.Header, data
	}
	h, data := get("/_matrix/federation/v1/media/download/" + textURI.FileID)
	if string(data) != "plain text" || h.Get("Content-Type") != "text/plain" || h.Get("Content-Disposition") != "inline; filename=note.txt" {
		t.Fatalf("download part %v %q", h, data)
	}
	h, data = get("/_matrix/federation/v1/media/thumbnail/" + imgURI.FileID + "?width=32&height=32&method=crop")
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 32 || cfg.Height != 32 || format != "png" || h.Get("Content-Type") != "image/png" {
		t.Fatalf("thumbnail part %v: %dx%d %s %v", h, cfg.Width, cfg.Height, format, err)
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
	if err := mediaConcurrentDownloads(bob, uri, data, 50); err != nil {
		t.Fatal(err)
	}
	if n := b.Server.Media.RemoteFetches(); n != 1 {
		t.Fatalf("%d federation fetches for 50 concurrent downloads, want 1", n)
	}
}
