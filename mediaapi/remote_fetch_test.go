package mediaapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/mediaapi/blob"
	"github.com/axon-hs/axon/mediaapi/preview"
	"github.com/axon-hs/axon/mediaapi/storage"
)

// fakeRemote answers federation media requests with a fixed response.
type fakeRemote struct {
	contentType string
	body        []byte
	calls       int
}

func (f *fakeRemote) Get(ctx context.Context, server, uri string, signed bool) (*http.Response, error) {
	f.calls++
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {f.contentType}}, Body: io.NopCloser(bytes.NewReader(f.body))}, nil
}

// testMedia is a MediaAPI without routes over db (a new SQLite one when
// nil) and a file store in a temporary directory.
func testMedia(t *testing.T, db *istorage.DB, remote RemoteFetcher, whitelist []string) *MediaAPI {
	t.Helper()
	dir := t.TempDir()
	fs, err := blob.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if db == nil {
		db = storagetest.OpenMigrated(t, storagetest.SQLiteDSN(t), storage.Component, storage.Migrations)
	}
	redirect, err := preview.NewFetcher(preview.Config{Blacklist: []string{"127.0.0.0/8", "::1/128"}, Whitelist: whitelist,
		MaxBytes: 1 << 20, MaxRedirects: 2, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := &MediaAPI{serverName: "us", db: storage.New(db), store: fs, tmpDir: blob.TempDir(dir), log: slog.Default(),
		maxUpload: 1 << 20, deps: Deps{Remote: remote}, redirect: redirect}
	m.stopCtx, m.stop = context.WithCancel(context.Background())
	m.cfg.RemoteTimeout = 10 * time.Second
	t.Cleanup(m.stop)
	return m
}

// TestRemoteRedirectForm: the Location form of a federation response is
// followed with the address-checked client.
func TestRemoteRedirectForm(t *testing.T) {
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, "from the CDN")
	}))
	defer cdn.Close()
	ct, body := federationBody(t, "{}", nil, cdn.URL+"/file")
	ctx := context.Background()

	m := testMedia(t, nil, &fakeRemote{contentType: ct, body: body}, []string{"127.0.0.1/32"})
	row, err := m.remoteMedia(ctx, mediaRef{origin: "them", mediaID: "abc", allowRemote: true})
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.store.Open(ctx, row.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "from the CDN" || row.ContentType != "image/png" {
		t.Fatalf("row %+v content %q", row, got)
	}

	// Without the whitelist the same loopback Location is refused.
	m = testMedia(t, nil, &fakeRemote{contentType: ct, body: body}, nil)
	if _, err := m.remoteMedia(ctx, mediaRef{origin: "them", mediaID: "abc", allowRemote: true}); !errors.Is(err, errRemoteFailed) {
		t.Fatalf("Location to loopback: %v", err)
	}
	if _, err := m.db.Media(ctx, "them", "abc"); !errors.Is(err, istorage.ErrNotFound) {
		t.Fatalf("refused fetch left a row: %v", err)
	}
}

// TestRemotePlainFederationResponse: a server that answers the federation
// media endpoint with the file itself (not the multipart form) still
// serves its media, typed by the response's Content-Type.
func TestRemotePlainFederationResponse(t *testing.T) {
	ctx := context.Background()
	m := testMedia(t, nil, &fakeRemote{contentType: "text/plain", body: []byte("Hello from the other side")}, nil)
	row, err := m.remoteMedia(ctx, mediaRef{origin: "them", mediaID: "PlainTextFile", allowRemote: true})
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.store.Open(ctx, row.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "Hello from the other side" || row.ContentType != "text/plain" || row.FileName != "" {
		t.Fatalf("row %+v content %q", row, got)
	}
}

// routedRemote answers the federation media endpoint with status fedStatus
// (a plain-text body) and the legacy endpoint with the file.
type routedRemote struct {
	fedStatus   int
	legacyCalls int
}

func (r *routedRemote) Get(ctx context.Context, server, uri string, signed bool) (*http.Response, error) {
	if strings.HasPrefix(uri, "/_matrix/federation/v1/media/") {
		return &http.Response{StatusCode: r.fedStatus, Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("no such route"))}, nil
	}
	r.legacyCalls++
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: io.NopCloser(strings.NewReader("legacy file"))}, nil
}

// TestRemoteLegacyFallbackOnNonMatrixError: a 4xx without a Matrix
// errcode from the federation media endpoint means the server does not
// know it, so the legacy download is tried; 429 (slow down) is not such
// an answer.
func TestRemoteLegacyFallbackOnNonMatrixError(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		status     int
		wantLegacy bool
	}{{http.StatusBadRequest, true}, {http.StatusNotFound, true}, {http.StatusTooManyRequests, false}} {
		remote := &routedRemote{fedStatus: tc.status}
		m := testMedia(t, nil, remote, nil)
		_, err := m.remoteMedia(ctx, mediaRef{origin: "them", mediaID: "abc", allowRemote: true})
		if got := remote.legacyCalls == 1 && err == nil; got != tc.wantLegacy {
			t.Fatalf("status %d: legacy used %v (calls %d, err %v), want %v", tc.status, got, remote.legacyCalls, err, tc.wantLegacy)
		}
	}
}
