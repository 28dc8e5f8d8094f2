package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRegisterUIADummy(t *testing.T) {
	srv := (&fakeHS{mode: "dummy"}).start(t)
	c := newClient(srv.URL, 5*time.Second)
	acc, res, err := c.registerUIA(context.Background(), "alice", "pw", "")
	if err != nil {
		t.Fatal(err)
	}
	if acc.UserID != "@alice:fake" || acc.AccessToken == "" || res.latency <= 0 {
		t.Errorf("account = %+v, response = %+v", acc, res)
	}
}

func TestRegisterRetriesRateLimit(t *testing.T) {
	for _, header := range []bool{false, true} {
		f := &fakeHS{mode: "dummy", limitFirst: true, retryHeader: header}
		srv := f.start(t)
		c := newClient(srv.URL, 5*time.Second)
		if _, _, err := c.registerUIA(context.Background(), "bob", "pw", ""); err != nil {
			t.Fatalf("header=%v: %v", header, err)
		}
		if got := c.rateLimited.Load(); got != 1 {
			t.Errorf("header=%v: rateLimited = %d, want 1", header, got)
		}
		if f.requests != 3 { // 429, 401, 200
			t.Errorf("header=%v: server saw %d requests, want 3", header, f.requests)
		}
	}
}

func TestRegisterRefused(t *testing.T) {
	cases := []struct{ mode, token string }{{"closed", ""}, {"token", ""}}
	for _, tc := range cases {
		srv := (&fakeHS{mode: tc.mode}).start(t)
		_, _, err := newClient(srv.URL, 5*time.Second).registerUIA(context.Background(), "carol", "pw", tc.token)
		if !errors.Is(err, errRegistrationRefused) {
			t.Errorf("mode %s: err = %v, want errRegistrationRefused", tc.mode, err)
		}
	}
}

func TestRegisterWithToken(t *testing.T) {
	srv := (&fakeHS{mode: "token"}).start(t)
	if _, _, err := newClient(srv.URL, 5*time.Second).registerUIA(context.Background(), "dave", "pw", "tok"); err != nil {
		t.Fatal(err)
	}
}

func TestRegisterSharedSecret(t *testing.T) {
	srv := (&fakeHS{secret: "s3cret"}).start(t)
	c := newClient(srv.URL, 5*time.Second)
	if acc, _, err := c.registerSharedSecret(context.Background(), "s3cret", "erin", "pw"); err != nil || acc.UserID != "@erin:fake" {
		t.Fatalf("acc = %+v, err = %v", acc, err)
	}
	if _, _, err := c.registerSharedSecret(context.Background(), "wrong", "frank", "pw"); !errors.Is(err, errRegistrationRefused) {
		t.Errorf("wrong secret: err = %v, want errRegistrationRefused", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answer
	}))
	defer srv.Close()
	_, err := newClient(srv.URL, 50*time.Millisecond).do(context.Background(), request{method: "GET", path: "/"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

// TestRunRegisterScenario drives the whole tool against the fake server.
func TestRunRegisterScenario(t *testing.T) {
	srv := (&fakeHS{mode: "dummy", limitFirst: true}).start(t)
	results, stdout := runForResults(t, srv.URL, "register", "-n", "6", "-c", "3")
	r := results[0]
	if len(results) != 1 || r.Scenario != "register" || r.OK != 6 || r.Errors != 0 || r.RateLimited != 6 || r.Latency == nil || r.Latency.Count != 6 {
		t.Errorf("results = %+v", results)
	}
	for _, want := range []string{"== register ==", "users/s", "p99", "429 M_LIMIT_EXCEEDED"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestRunRegistrationDisabled(t *testing.T) {
	srv := (&fakeHS{mode: "closed"}).start(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--hs", srv.URL, "register", "-n", "50"}, &stdout, &stderr, false); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "registration.mode: open") || !strings.Contains(stderr.String(), "--shared-secret") {
		t.Errorf("stderr lacks the how-to-enable hint:\n%s", stderr.String())
	}
}

func TestRunUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--hs", url, "register"}, &stdout, &stderr, false); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "cannot reach homeserver at "+url) {
		t.Errorf("stderr = %s", stderr.String())
	}
}

// TestRunEveryScenario runs each scenario with tiny sizes against the fake
// server: a smoke test of setup, measured phases and reporting.
func TestRunEveryScenario(t *testing.T) {
	runs := map[string][]string{
		"send":         {"send", "-c", "3", "-t", "0.3"},
		"sync-latency": {"sync-latency", "-m", "20", "-wait", "2s"},
		"initial-sync": {"initial-sync", "-r", "3", "-k", "4", "--repeat", "2"},
		"herd":         {"herd", "-h", "12", "--members", "5", "--events", "10"},
		"bigroom":      {"bigroom", "--members", "6,2", "--online", "3", "--senders", "2", "-t", "0.3", "--repeat", "2"},
	}
	wantResults := map[string]int{"send": 2, "sync-latency": 1, "initial-sync": 1, "herd": 1, "bigroom": 4}
	for name, args := range runs {
		t.Run(name, func(t *testing.T) {
			srv := (&fakeHS{mode: "dummy"}).start(t)
			out := filepath.Join(t.TempDir(), "results.json")
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"--hs", srv.URL, "--json", out, "--pid", strconv.Itoa(os.Getpid())}, args...), &stdout, &stderr, false); code != 0 {
				t.Fatalf("exit %d, stderr: %s", code, stderr.String())
			}
			var results []result
			data, _ := os.ReadFile(out)
			if err := json.Unmarshal(data, &results); err != nil {
				t.Fatal(err)
			}
			if len(results) != wantResults[name] {
				t.Fatalf("%d results, want %d", len(results), wantResults[name])
			}
			for _, r := range results {
				if r.OK == 0 || r.Errors != 0 || r.Latency == nil || r.Memory == nil || r.Memory.PeakRSSKB == 0 || r.CPU == nil || r.CPU.UserS+r.CPU.SystemS < 0 {
					t.Errorf("result = %+v\nstdout:\n%s", r, stdout.String())
				}
			}
			t.Log(stdout.String())
		})
	}
}

// TestRunBigroomDeliveries checks the bigroom scenario's own figures: every
// acknowledged message reaches every online member, the smaller room runs
// first and the last member's initial sync is timed.
func TestRunBigroomDeliveries(t *testing.T) {
	srv := (&fakeHS{mode: "dummy"}).start(t)
	results, stdout := runForResults(t, srv.URL, "bigroom", "--members", "8,3", "--online", "4", "--senders", "2", "-t", "0.3", "--rate", "50")
	want := []string{"members=3", "members=3 initial sync", "members=8", "members=8 initial sync"}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(results), len(want), stdout)
	}
	for k, r := range results {
		if r.Variant != want[k] {
			t.Errorf("result %d is %q, want %q", k, r.Variant, want[k])
		}
	}
	for _, k := range []int{0, 2} {
		r := results[k]
		online := min(4, r.Params["members"].(float64))
		acked := r.Extra["messages_acked"].(float64)
		// 50/s for 0.3 s: a few messages, never more than the rate allows.
		if acked == 0 || acked > 50*0.3+2 || float64(r.OK) != acked {
			t.Errorf("%s: ok %d, acked %v", r.Variant, r.OK, acked)
		}
		if r.Extra["lost"].(float64) != 0 || r.Extra["delivered"].(float64) != acked*online ||
			r.Extra["min_online_seeing_a_msg"].(float64) != online || r.Extra["duplicates"].(float64) != 0 {
			t.Errorf("%s: online %v, extra %+v", r.Variant, online, r.Extra)
		}
	}
	if !strings.Contains(stdout, "== bigroom (members=8 initial sync) ==") {
		t.Errorf("summary lacks the initial sync:\n%s", stdout)
	}
}

// runForResults runs the tool against hs with args, expecting success,
// and returns the --json results and the summary.
func runForResults(t *testing.T, hs string, args ...string) ([]result, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"--hs", hs, "--json", out}, args...), &stdout, &stderr, false); code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, stderr.String())
	}
	var results []result
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatal(err)
	}
	return results, stdout.String()
}
