package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"image"
	"image/color/palette"
	"image/gif"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

func TestMediaUploadDownload(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		inst := testserver.Start(t, opts)
		alice := inst.Register("alice", "password123")
		data := make([]byte, 300_000)
		_, _ = rand.Read(data)
		uri := mediaUpload(t, alice, data, "application/pdf", "report ü.pdf")
		if uri.Homeserver != inst.Cfg.ServerName || len(uri.FileID) < 24 {
			t.Fatalf("content URI %s", uri)
		}

		h, got := mediaDownload(t, alice, uri)
		if !bytes.Equal(got, data) {
			t.Fatal("authenticated download differs from the upload")
		}
		if h.Get("Content-Type") != "application/pdf" {
			t.Fatalf("Content-Type %q", h.Get("Content-Type"))
		}
		if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "filename*=utf-8''report%20%C3%BC.pdf") {
			t.Fatalf("Content-Disposition %q: want attachment (PDF is not inline-safe) with the RFC 6266 name", cd)
		}
		if !strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox;") || h.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
			t.Fatalf("security headers: CSP %q CORP %q", h.Get("Content-Security-Policy"), h.Get("Cross-Origin-Resource-Policy"))
		}

		// The legacy unauthenticated download, with a file name in the path.
		status, lh, legacy := mediaGet(t, inst.URL+"/_matrix/media/v3/download/"+uri.Homeserver+"/"+uri.FileID+"/other.pdf", "")
		if status != 200 || !bytes.Equal(legacy, data) || !strings.Contains(lh.Get("Content-Disposition"), `filename=other.pdf`) {
			t.Fatalf("legacy download: %d, %d bytes, disposition %q", status, len(legacy), lh.Get("Content-Disposition"))
		}

		// An image type is inline.
		img := mediaPNG(t, 10, 10)
		imgURI := mediaUpload(t, alice, img, "image/png", "dot.png")
		h, _ = mediaDownload(t, alice, imgURI)
		if h.Get("Content-Disposition") != "inline; filename=dot.png" {
			t.Fatalf("image disposition %q", h.Get("Content-Disposition"))
		}
		// HTML claiming nothing safe is an attachment, never inline.
		htmlURI := mediaUpload(t, alice, []byte("<script>alert(1)</script>"), "text/html", "")
		h, _ = mediaDownload(t, alice, htmlURI)
		if h.Get("Content-Disposition") != "attachment" {
			t.Fatalf("HTML disposition %q", h.Get("Content-Disposition"))
		}

		// Ranges (resumable downloads, media seeking).
		req, _ := http.NewRequest(http.MethodGet, inst.URL+"/_matrix/client/v1/media/download/"+uri.Homeserver+"/"+uri.FileID, nil)
		req.Header.Set("Authorization", "Bearer "+alice.AccessToken)
		req.Header.Set("Range", "bytes=100-199")
		resp, err := acctHTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, data[100:200]) {
			t.Fatalf("range request: %d, %d bytes", resp.StatusCode, len(part))
		}

		// Identical uploads are stored once (content-addressed) but get
		// their own IDs.
		again := mediaUpload(t, alice, data, "application/pdf", "")
		if again == uri {
			t.Fatal("second upload got the same media ID")
		}
		if _, got := mediaDownload(t, alice, again); !bytes.Equal(got, data) {
			t.Fatal("second copy differs")
		}

		cfg, err := alice.GetMediaConfig(context.Background())
		if err != nil || cfg.UploadSize != inst.Cfg.Limits.MaxUploadBytes {
			t.Fatalf("media config: %+v %v", cfg, err)
		}

		// Restart: what was uploaded is still served.
		inst.Restart() // same address and databases: the token still works
		if _, got := mediaDownload(t, alice, uri); !bytes.Equal(got, data) {
			t.Fatal("download after restart differs")
		}
	})
}

func TestMediaErrors(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.Limits.MaxUploadBytes = 100_000 }})
	alice := inst.Register("alice", "password123")
	uri := mediaUpload(t, alice, []byte("hello"), "text/plain", "")

	// 401 on the authenticated API without a token; the legacy one serves.
	status, _, body := mediaGet(t, inst.URL+"/_matrix/client/v1/media/download/"+uri.Homeserver+"/"+uri.FileID, "")
	if status != 401 || !strings.Contains(string(body), "M_MISSING_TOKEN") {
		t.Fatalf("v1 download without a token: %d %s", status, body)
	}
	// 404 M_NOT_FOUND for an unknown ID, both APIs.
	for _, u := range []string{"/_matrix/client/v1/media/download/", "/_matrix/media/v3/download/"} {
		status, _, body = mediaGet(t, inst.URL+u+inst.Cfg.ServerName+"/doesNotExist123", alice.AccessToken)
		if status != 404 || !strings.Contains(string(body), "M_NOT_FOUND") {
			t.Fatalf("%s unknown ID: %d %s", u, status, body)
		}
	}
	// Invalid media IDs are refused before any lookup.
	status, _, _ = mediaGet(t, inst.URL+"/_matrix/client/v1/media/download/"+inst.Cfg.ServerName+"/bad.id", alice.AccessToken)
	if status != 400 {
		t.Fatalf("invalid media ID: %d", status)
	}
	// 413 M_TOO_LARGE over limits.max_upload_bytes.
	_, err := alice.UploadMedia(context.Background(), mautrix.ReqUploadMedia{ContentBytes: make([]byte, 100_001), ContentType: "application/octet-stream"})
	if !mediaIsErr(err, mautrix.MTooLarge) {
		t.Fatalf("oversized upload: %v", err)
	}
	// Exactly the limit is fine.
	mediaUpload(t, alice, make([]byte, 100_000), "application/octet-stream", "")
	// A thumbnail of something that is not an image.
	status, _, body = mediaGet(t, inst.URL+"/_matrix/client/v1/media/thumbnail/"+uri.Homeserver+"/"+uri.FileID+"?width=32&height=32", alice.AccessToken)
	if status != 400 {
		t.Fatalf("thumbnail of text: %d %s", status, body)
	}
	// Bad thumbnail parameters.
	status, _, _ = mediaGet(t, inst.URL+"/_matrix/client/v1/media/thumbnail/"+uri.Homeserver+"/"+uri.FileID+"?width=-1&height=32", alice.AccessToken)
	if status != 400 {
		t.Fatalf("negative width: %d", status)
	}
	// URL previews are off by default.
	_, err = alice.GetURLPreview(context.Background(), "https://example.org/")
	if !mediaIsErr(err, mautrix.MForbidden) {
		t.Fatalf("preview with previews off: %v", err)
	}
}

func TestMediaAsyncUpload(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) { cfg.Media.MaxPendingUploads = 3 }})
	alice := inst.Register("alice", "password123")
	bob := inst.Register("bob", "password123")
	ctx := context.Background()

	created, err := alice.CreateMXC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if created.UnusedExpiresAt.Before(time.Now().Add(23 * time.Hour)) {
		t.Fatalf("unused_expires_at %v: want about 24h from now", created.UnusedExpiresAt.Time)
	}
	uri := created.ContentURI
	// Not uploaded yet: 504 M_NOT_YET_UPLOADED after timeout_ms.
	status, _, body := mediaGet(t, inst.URL+"/_matrix/client/v1/media/download/"+uri.Homeserver+"/"+uri.FileID+"?timeout_ms=100", alice.AccessToken)
	if status != 504 || !strings.Contains(string(body), "M_NOT_YET_UPLOADED") {
		t.Fatalf("pending download: %d %s", status, body)
	}
	// A download waiting with timeout_ms gets the content once it arrives.
	var wg sync.WaitGroup
	var waited []byte
	var waitErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest(http.MethodGet, inst.URL+"/_matrix/client/v1/media/download/"+uri.Homeserver+"/"+uri.FileID+"?timeout_ms=30000", nil)
		req.Header.Set("Authorization", "Bearer "+alice.AccessToken)
		resp, err := acctHTTPClient.Do(req)
		if err != nil {
			waitErr = err
			return
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, waitErr = b.ReadFrom(resp.Body)
		if resp.StatusCode != 200 {
			waitErr = fmt.Errorf("status %d: %s", resp.StatusCode, b.String())
		}
		waited = b.Bytes()
	}()

	// Someone else may not upload to it.
	_, err = bob.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: uri, ContentBytes: []byte("bob's"), ContentType: "text/plain"})
	if !mediaIsErr(err, mautrix.MForbidden) {
		t.Fatalf("upload to another user's ID: %v", err)
	}
	if _, err := alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: uri, ContentBytes: []byte("async content"), ContentType: "text/plain"}); err != nil {
		t.Fatalf("async upload: %v", err)
	}
	wg.Wait()
	if waitErr != nil || string(waited) != "async content" {
		t.Fatalf("waiting download: %q %v", waited, waitErr)
	}
	// Uploading twice: 409 M_CANNOT_OVERWRITE_MEDIA.
	_, err = alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: uri, ContentBytes: []byte("again"), ContentType: "text/plain"})
	if !mediaIsErr(err, mautrix.RespError{ErrCode: "M_CANNOT_OVERWRITE_MEDIA"}) {
		t.Fatalf("second upload: %v", err)
	}
	// Too many pending: M_LIMIT_EXCEEDED.
	for i := 0; i < 3; i++ {
		if _, err := alice.CreateMXC(ctx); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if _, err := alice.CreateMXC(ctx); !mediaIsErr(err, mautrix.MLimitExceeded) {
		t.Fatalf("fourth pending upload: %v", err)
	}
	// An unknown ID of ours: 404.
	_, err = alice.UploadMedia(ctx, mautrix.ReqUploadMedia{MXC: id.ContentURI{Homeserver: inst.Cfg.ServerName, FileID: "unknownID"}, ContentBytes: []byte("x")})
	if !mediaIsErr(err, mautrix.MNotFound) {
		t.Fatalf("upload to unknown ID: %v", err)
	}
}

func TestMediaThumbnails(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	for _, c := range []struct {
		name, ctype, format string
		data                []byte
	}{
		{"png", "image/png", "png", mediaPNG(t, 1200, 900)},
		{"jpeg", "image/jpeg", "jpeg", mediaJPEG(t, 1200, 900)},
	} {
		t.Run(c.name, func(t *testing.T) {
			uri := mediaUpload(t, alice, c.data, c.ctype, "photo."+c.name)
			for _, s := range []struct {
				w, h         int
				method       string
				wantW, wantH int
			}{
				{32, 32, "crop", 32, 32},
				{96, 96, "crop", 96, 96},
				{320, 240, "scale", 320, 240},
				{640, 480, "scale", 640, 480},
				{800, 600, "scale", 800, 600},
				{50, 50, "crop", 96, 96},         // rounded up to a stored size, never smaller
				{1000, 300, "scale", 426, 320},   // made on demand for 1024×320 (rounded up): fits the box
				{2000, 2000, "scale", 1200, 900}, // larger than the image: the original
			} {
				cfg, format, h := mediaThumbnailSize(t, alice, uri, s.w, s.h, s.method)
				if cfg.Width != s.wantW || cfg.Height != s.wantH || format != c.format {
					t.Fatalf("%dx%d %s: got %dx%d %s, want %dx%d %s", s.w, s.h, s.method, cfg.Width, cfg.Height, format, s.wantW, s.wantH, c.format)
				}
				if !strings.HasPrefix(h.Get("Content-Disposition"), "inline") || h.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
					t.Fatalf("thumbnail headers: %v", h)
				}
			}
			// The legacy thumbnail endpoint works without a token.
			status, _, body := mediaGet(t, inst.URL+"/_matrix/media/v3/thumbnail/"+uri.Homeserver+"/"+uri.FileID+"?width=96&height=96&method=crop", "")
			if status != 200 || len(body) == 0 {
				t.Fatalf("legacy thumbnail: %d", status)
			}
		})
	}
}

func TestMediaDecompressionBomb(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	bomb := mediaPNG(t, 1, 1)
	// Rewrite the header to claim 100000×100000 pixels (and fix its CRC).
	setPNGSize(bomb, 100_000, 100_000)
	uri := mediaUpload(t, alice, bomb, "image/png", "bomb.png")
	status, _, body := mediaGet(t, inst.URL+"/_matrix/client/v1/media/thumbnail/"+uri.Homeserver+"/"+uri.FileID+"?width=32&height=32&method=crop", alice.AccessToken)
	if status != 413 || !strings.Contains(string(body), "M_TOO_LARGE") {
		t.Fatalf("thumbnail of a decompression bomb: %d %s", status, body)
	}
	// It still downloads as the file it is.
	if _, got := mediaDownload(t, alice, uri); !bytes.Equal(got, bomb) {
		t.Fatal("bomb file not served as uploaded")
	}
}

func TestMediaLegacyFreeze(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Media.FreezeLegacyAfter = time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	}})
	alice := inst.Register("alice", "password123")
	uri := mediaUpload(t, alice, []byte("new"), "text/plain", "")
	status, _, _ := mediaGet(t, inst.URL+"/_matrix/media/v3/download/"+uri.Homeserver+"/"+uri.FileID, "")
	if status != 404 {
		t.Fatalf("legacy download of media uploaded after the freeze: %d", status)
	}
	if _, got := mediaDownload(t, alice, uri); string(got) != "new" {
		t.Fatal("authenticated download after the freeze")
	}
}

func TestMediaUploadRateLimit(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.RateLimits.Enabled = true
		cfg.RateLimits.Login = config.Rate{}
		cfg.RateLimits.Registration = config.Rate{}
		cfg.RateLimits.MediaUploads = config.Rate{PerSecond: 0.01, Burst: 2}
	}})
	alice := inst.Register("alice", "password123")
	mediaUpload(t, alice, []byte("1"), "text/plain", "")
	mediaUpload(t, alice, []byte("2"), "text/plain", "")
	_, err := alice.UploadBytes(context.Background(), []byte("3"), "text/plain")
	if !mediaIsErr(err, mautrix.MLimitExceeded) {
		t.Fatalf("third upload in a burst of 2: %v", err)
	}
	r := acctDo(t, http.MethodPost, inst.URL+"/_matrix/media/v3/upload", alice.AccessToken, []byte("4"))
	if r.Status != 429 || r.Body["retry_after_ms"] == nil {
		t.Fatalf("limited upload: %d %s", r.Status, r.Raw)
	}
}

// TestMediaVersionsHonest: a server advertising Matrix 1.11 or later
// must serve authenticated media.
func TestMediaVersionsHonest(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	v := acctDo(t, http.MethodGet, inst.URL+"/_matrix/client/versions", "", nil)
	versions, _ := v.Body["versions"].([]any)
	advertised := false
	for _, s := range versions {
		advertised = advertised || s == "v1.11"
	}
	if !advertised {
		t.Fatalf("versions %v: v1.11 expected now that authenticated media exists", versions)
	}
	for _, path := range []string{"/_matrix/client/v1/media/config", "/_matrix/client/v1/media/preview_url?url=https://example.org/"} {
		r := acctDo(t, http.MethodGet, inst.URL+path, alice.AccessToken, nil)
		if r.errcode() == "M_UNRECOGNIZED" || r.Status >= 500 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Raw)
		}
	}
}

// TestMediaAnimatedThumbnail: animated=true keeps a GIF's animation;
// without it the thumbnail is a still PNG.
func TestMediaAnimatedThumbnail(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	alice := inst.Register("alice", "password123")
	g := &gif.GIF{}
	for i := 0; i < 3; i++ {
		p := image.NewPaletted(image.Rect(0, 0, 200, 100), palette.Plan9)
		for x := 0; x < 200; x++ {
			p.SetColorIndex(x, (x+i*10)%100, uint8(i*40+1))
		}
		g.Image, g.Delay = append(g.Image, p), append(g.Delay, 5)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	uri := mediaUpload(t, alice, buf.Bytes(), "image/gif", "anim.gif")
	resp, err := alice.DownloadThumbnail(context.Background(), uri, 96, 96, mautrix.DownloadThumbnailExtra{Method: "crop", Animated: true})
	if err != nil {
		t.Fatal(err)
	}
	anim, err := gif.DecodeAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(anim.Image) != 3 || anim.Config.Width != 96 || resp.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("animated thumbnail: %v, %s", err, resp.Header.Get("Content-Type"))
	}
	_, format, _ := mediaThumbnailSize(t, alice, uri, 96, 96, "crop")
	if format != "png" {
		t.Fatalf("still thumbnail of a GIF is %s, want png", format)
	}
}
