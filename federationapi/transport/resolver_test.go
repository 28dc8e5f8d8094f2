package transport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

type fakeDNS struct {
	srv       map[string][]*net.SRV // "_service._tcp.name"
	wellKnown map[string]string
	wkCalls   int
}

func (f *fakeDNS) lookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if recs, ok := f.srv["_"+service+"._"+proto+"."+name]; ok {
		return "", recs, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeDNS) lookupWellKnown(_ context.Context, host string) (string, time.Duration, error) {
	f.wkCalls++
	if d, ok := f.wellKnown[host]; ok {
		return d, time.Hour, nil
	}
	return "", 0, errors.New("no well-known")
}

func TestResolve(t *testing.T) {
	dns := &fakeDNS{
		srv: map[string][]*net.SRV{
			"_matrix-fed._tcp.srv.org":      {{Target: "fed.srv.org.", Port: 443}},
			"_matrix._tcp.legacy.org":       {{Target: "old.legacy.org.", Port: 8449}},
			"_matrix-fed._tcp.delegated.to": {{Target: "box.delegated.to.", Port: 9000}},
		},
		wellKnown: map[string]string{
			"wk-port.org": "matrix.wk-port.org:4443",
			"wk-ip.org":   "10.0.0.1",
			"wk-srv.org":  "delegated.to",
			"wk-none.org": "plain.example",
		},
	}
	r := &Resolver{LookupSRV: dns.lookupSRV, LookupWellKnown: dns.lookupWellKnown, Now: time.Now}
	cases := map[string]Result{
		"1.2.3.4":          {Addr: "1.2.3.4:8448", Host: "1.2.3.4", TLSName: "1.2.3.4"},
		"1.2.3.4:99":       {Addr: "1.2.3.4:99", Host: "1.2.3.4:99", TLSName: "1.2.3.4"},
		"[::1]:99":         {Addr: "[::1]:99", Host: "[::1]:99", TLSName: "::1"},
		"example.org:8000": {Addr: "example.org:8000", Host: "example.org:8000", TLSName: "example.org"},
		"wk-port.org":      {Addr: "matrix.wk-port.org:4443", Host: "matrix.wk-port.org:4443", TLSName: "matrix.wk-port.org"},
		"wk-ip.org":        {Addr: "10.0.0.1:8448", Host: "10.0.0.1", TLSName: "10.0.0.1"},
		"wk-srv.org":       {Addr: "box.delegated.to:9000", Host: "delegated.to", TLSName: "delegated.to"},
		"wk-none.org":      {Addr: "plain.example:8448", Host: "plain.example", TLSName: "plain.example"},
		"srv.org":          {Addr: "fed.srv.org:443", Host: "srv.org", TLSName: "srv.org"},
		"legacy.org":       {Addr: "old.legacy.org:8449", Host: "legacy.org", TLSName: "legacy.org"},
		"nothing.org":      {Addr: "nothing.org:8448", Host: "nothing.org", TLSName: "nothing.org"},
	}
	for name, want := range cases {
		got, err := r.Resolve(context.Background(), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, []Result{want}) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	if _, err := r.Resolve(context.Background(), "bad name!"); err == nil {
		t.Error("invalid server name resolved")
	}
}

func TestResolveCaches(t *testing.T) {
	dns := &fakeDNS{wellKnown: map[string]string{"wk.org": "host.wk.org:1"}}
	now := time.Unix(1000, 0)
	r := &Resolver{LookupSRV: dns.lookupSRV, LookupWellKnown: dns.lookupWellKnown, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if _, err := r.Resolve(context.Background(), "wk.org"); err != nil {
			t.Fatal(err)
		}
	}
	if dns.wkCalls != 1 {
		t.Fatalf("well-known fetched %d times, want 1 (cached)", dns.wkCalls)
	}
	now = now.Add(2 * time.Hour) // past the 1h TTL the fake returns
	if _, err := r.Resolve(context.Background(), "wk.org"); err != nil {
		t.Fatal(err)
	}
	if dns.wkCalls != 2 {
		t.Fatalf("expired cache not refreshed: %d calls", dns.wkCalls)
	}
	r.Forget("wk.org")
	if _, err := r.Resolve(context.Background(), "wk.org"); err != nil {
		t.Fatal(err)
	}
	if dns.wkCalls != 3 {
		t.Fatalf("Forget did not drop the entry: %d calls", dns.wkCalls)
	}
}

func TestWellKnownFetcher(t *testing.T) {
	var body string
	var status = http.StatusOK
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/matrix/server" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	f := &WellKnownFetcher{Client: srv.Client()}
	host := strings.TrimPrefix(srv.URL, "https://")

	body = `{"m.server": "delegated.example:443"}`
	got, ttl, err := f.Lookup(context.Background(), host)
	if err != nil || got != "delegated.example:443" || ttl != 10*time.Minute {
		t.Fatalf("got %q %v %v", got, ttl, err)
	}
	for _, bad := range []string{`{}`, `not json`, `{"m.server": "bad name!"}`, `{"m.server": "` + strings.Repeat("a", maxWellKnownBytes) + `"}`} {
		body = bad
		if _, _, err := f.Lookup(context.Background(), host); err == nil {
			t.Errorf("accepted %.40q", bad)
		}
	}
	body, status = `{"m.server": "x.org"}`, http.StatusNotFound
	if _, _, err := f.Lookup(context.Background(), host); err == nil {
		t.Error("accepted a 404")
	}
}

func TestCacheTTL(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := http.Header{}
	h.Set("Expires", now.Add(time.Hour).UTC().Format(http.TimeFormat))
	if got := cacheTTL(h, now); got != time.Hour {
		t.Errorf("Expires: %v", got)
	}
	h.Set("Cache-Control", "max-age=30")
	if got := cacheTTL(h, now); got != 30*time.Second {
		t.Errorf("max-age should win: %v", got)
	}
	if got := clampTTL(1000 * time.Hour); got != maxWellKnownTTL {
		t.Errorf("clamp: %v", got)
	}
	if got := clampTTL(0); got != defaultWellKnownTTL {
		t.Errorf("default: %v", got)
	}
}

func TestRoundTripperTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Host + " " + r.URL.Path))
	}))
	defer srv.Close()
	name := strings.TrimPrefix(srv.URL, "https://") // 127.0.0.1:port

	insecure := &http.Client{Transport: NewRoundTripper(NewResolver(nil), true), Timeout: 5 * time.Second}
	resp, err := insecure.Get("matrix://" + name + "/_matrix/federation/v1/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	// Certificate checks are on unless explicitly skipped.
	secure := &http.Client{Transport: NewRoundTripper(NewResolver(nil), false), Timeout: 5 * time.Second}
	if _, err := secure.Get("matrix://" + name + "/x"); err == nil {
		t.Fatal("self-signed certificate accepted with verification on")
	}
	if _, err := secure.Get("https://" + name + "/x"); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Fatalf("want unsupported scheme, got %v", err)
	}
}
