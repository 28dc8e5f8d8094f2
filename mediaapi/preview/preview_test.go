package preview

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var defaultBlacklist = []string{"127.0.0.0/8", "10.0.0.0/8", "::1/128", "fc00::/7", "169.254.0.0/16", "100.64.0.0/10", "::ffff:0:0/96"}

func testFetcher(t *testing.T, white []string, lookup func(ctx context.Context, host string) ([]netip.Addr, error)) *Fetcher {
	t.Helper()
	f, err := NewFetcher(Config{Blacklist: defaultBlacklist, Whitelist: white, MaxBytes: 1 << 16, MaxRedirects: 3, Timeout: 5 * time.Second, LookupIP: lookup})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLoopbackRefusedByDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// A public-looking name resolving to 127.0.0.1 (DNS rebinding).
	rebind := func(ctx context.Context, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	f := testFetcher(t, nil, rebind)
	for _, u := range []string{srv.URL, "http://public.example.org:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		_, err := f.Get(context.Background(), u)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("%s: err = %v, want ErrForbiddenAddress", u, err)
		}
	}
}

func TestRedirectToLoopbackRefused(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	defer inner.Close()
	// The outer server is on 127.0.0.2 (whitelisted); it redirects to
	// 127.0.0.1, which is not.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	outer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL, http.StatusFound)
	}))
	outer.Listener = ln
	outer.Start()
	defer outer.Close()
	f := testFetcher(t, []string{"127.0.0.2/32"}, nil)
	if _, err := f.Get(context.Background(), outer.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("redirect to loopback: err = %v", err)
	}
}

func TestWhitelistedFetchAndLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			io.WriteString(w, strings.Repeat("x", 1<<17))
			return
		}
		if r.URL.Path == "/loop" {
			http.Redirect(w, r, "/loop", http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	f := testFetcher(t, []string{"127.0.0.1/32"}, nil)
	resp, err := f.Get(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Close()
	if err != nil || string(body) != "ok" {
		t.Fatalf("whitelisted fetch: %q %v", body, err)
	}
	resp, err = f.Get(context.Background(), srv.URL+"/big")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Close()
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized page: %v", err)
	}
	if _, err := f.Get(context.Background(), srv.URL+"/loop"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("redirect loop: %v", err)
	}
	if _, err := f.Get(context.Background(), "file:///etc/passwd"); err == nil {
		t.Fatal("file: URL fetched")
	}
}

func TestMeta(t *testing.T) {
	page := `<html><head><title> The  Title </title>
<meta name="description" content="A description">
<meta property="og:image" content="/img.png"><meta property="og:site_name" content="Site">
</head><body>x</body></html>`
	og := Meta(strings.NewReader(page))
	if og["og:title"] != "The Title" || og["og:description"] != "A description" || og["og:image"] != "/img.png" || og["og:site_name"] != "Site" {
		t.Fatalf("meta %v", og)
	}
	og = Meta(strings.NewReader(`<meta property="og:title" content="OG wins"><title>plain</title>`))
	if og["og:title"] != "OG wins" {
		t.Fatalf("og:title %q", og["og:title"])
	}
}

// FuzzMeta: any page parses without panicking, within the bounds.
func FuzzMeta(f *testing.F) {
	f.Add(`<html><head><title>t</title><meta property="og:title" content="x"></head></html>`)
	f.Add(`<meta property=og:image content=` + strings.Repeat("a", 3000) + `>`)
	f.Fuzz(func(t *testing.T, page string) {
		og := Meta(strings.NewReader(page))
		if len(og) > maxProperties+2 {
			t.Fatalf("%d properties", len(og))
		}
		for k, v := range og {
			if len(v) > maxValueBytes {
				t.Fatalf("%s: %d bytes", k, len(v))
			}
		}
	})
}
