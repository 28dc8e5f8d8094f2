package e2e

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// ssrfProbe is a loopback TCP port that counts the connections made to it.
type ssrfProbe struct {
	ln       net.Listener
	accepted atomic.Int64
}

func newSSRFProbe(t *testing.T) *ssrfProbe {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ssrfProbe{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			c.Close()
		}
	}()
	return p
}

// TestFederationRefusesPrivateDestinations: with no allow-list, nothing a
// client or an unauthenticated server sends makes Axon connect to a
// loopback address, and the errors do not tell an open port from a
// closed one.
func TestFederationRefusesPrivateDestinations(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		testserver.Federated(t)(cfg)
		cfg.Federation.AllowedPrivateNetworks = nil
	}})
	c := inst.Register("prober", "password123")
	open := newSSRFProbe(t)
	openAddr := open.ln.Addr().String()
	closedAddr := testserver.FreeLoopbackAddr(t)

	joinVia := func(addr string) acctResp {
		r, err := acctTry("POST", inst.URL+"/_matrix/client/v3/join/"+url.PathEscape("!x:"+addr), c.AccessToken, `{}`)
		if err != nil && r.Status != http.StatusBadGateway { // 502: the remote could not be used
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(r.Raw), &r.Body); err != nil {
			t.Fatalf("non-JSON answer %q", r.Raw)
		}
		return r
	}
	ro, rc := joinVia(openAddr), joinVia(closedAddr)
	if ro.Status == http.StatusOK || ro.errcode() == "" {
		t.Fatalf("join via a loopback server: %d %s", ro.Status, ro.Raw)
	}
	if ro.Status != rc.Status || strings.ReplaceAll(ro.str("error"), openAddr, "X") != strings.ReplaceAll(rc.str("error"), closedAddr, "X") {
		t.Fatalf("open and closed ports answer differently:\n open:   %d %s\n closed: %d %s", ro.Status, ro.Raw, rc.Status, rc.Raw)
	}
	for _, leak := range []string{"refused", "dial", "connect", "tcp", "EOF", "tls"} {
		if strings.Contains(ro.Raw, leak) {
			t.Fatalf("error reveals connection details (%q): %s", leak, ro.Raw)
		}
	}

	// /keys/query for users on those servers: the failures say no more.
	keysVia := func(addr string) string {
		r := acctDo(t, "POST", inst.URL+"/_matrix/client/v3/keys/query", c.AccessToken, `{"device_keys":{"@x:`+addr+`":[]}}`)
		f, _ := r.Body["failures"].(map[string]any)
		if f[addr] == nil {
			t.Fatalf("no failure reported for %s: %s", addr, r.Raw)
		}
		raw, _ := json.Marshal(f[addr])
		return strings.ReplaceAll(string(raw), addr, "X")
	}
	if ko, kc := keysVia(openAddr), keysVia(closedAddr); ko != kc {
		t.Fatalf("/keys/query failures differ for an open and a closed port:\n open:   %s\n closed: %s", ko, kc)
	} else {
		for _, leak := range []string{"refused", "dial", "connect", "tcp", "EOF", "tls", "not allowed"} {
			if strings.Contains(ko, leak) {
				t.Fatalf("/keys/query failure reveals connection details (%q): %s", leak, ko)
			}
		}
	}

	// An unauthenticated request naming a loopback origin: the key fetch
	// for it must not connect there either.
	https := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test certs
	req, err := http.NewRequest("GET", inst.FederationURL()+"/_matrix/federation/v1/query/profile?user_id="+url.QueryEscape(string(c.UserID)), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", `X-Matrix origin="`+openAddr+`",key="ed25519:a",sig="c2ln"`)
	resp, err := https.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged origin: got %d, want 401", resp.StatusCode)
	}
	if n := open.accepted.Load(); n != 0 {
		t.Fatalf("Axon connected %d times to a loopback address named by a client or a remote", n)
	}
}
