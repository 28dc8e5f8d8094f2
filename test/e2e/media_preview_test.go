package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

func TestMediaURLPreview(t *testing.T) {
	img := mediaPNG(t, 200, 100)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html><head><title>Fallback</title><meta property="og:title" content="A Matrix post">
<meta property="og:description" content="About media"><meta property="og:image" content="/pic.png"></head><body>hi</body></html>`)
		case "/pic.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(img)
		case "/redirect":
			http.Redirect(w, r, "/page", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()

	t.Run("whitelisted test server", func(t *testing.T) {
		inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
			cfg.Media.URLPreview.Enabled = true
			cfg.Media.URLPreview.IPRangeWhitelist = []string{"127.0.0.1/32"}
		}})
		alice := inst.Register("alice", "password123")
		p, err := alice.GetURLPreview(context.Background(), site.URL+"/redirect")
		if err != nil {
			t.Fatal(err)
		}
		if p.Title != "A Matrix post" || p.Description != "About media" || p.ImageURL == "" || int(p.ImageSize) != len(img) ||
			int(p.ImageWidth) != 200 || int(p.ImageHeight) != 100 || p.ImageType != "image/png" {
			t.Fatalf("preview %+v", p)
		}
		// The og:image is our own media now.
		if _, got := mediaDownload(t, alice, p.ImageURL.ParseOrIgnore()); len(got) != len(img) {
			t.Fatalf("preview image: %d bytes", len(got))
		}
		// Cached per URL and hour: the same answer without fetching again.
		site.Close()
		again, err := alice.GetURLPreview(context.Background(), site.URL+"/redirect")
		if err != nil || again.Title != p.Title {
			t.Fatalf("cached preview: %+v %v", again, err)
		}
	})
	t.Run("loopback refused by default", func(t *testing.T) {
		inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.Media.URLPreview.Enabled = true }})
		alice := inst.Register("alice", "password123")
		host := strings.Replace(site.URL, "127.0.0.1", "localhost", 1) // a name resolving to loopback
		for _, u := range []string{site.URL + "/page", host + "/page", inst.URL + "/_matrix/client/versions"} {
			_, err := alice.GetURLPreview(context.Background(), u)
			if !mediaIsErr(err, mautrix.MForbidden) {
				t.Fatalf("preview of %s: %v, want M_FORBIDDEN", u, err)
			}
		}
	})
}
