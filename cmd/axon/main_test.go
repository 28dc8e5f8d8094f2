package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
)

// buildBinary compiles axon once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "axon")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestProcessLifecycle runs the real binary: first-run config creation,
// serving, metrics, account creation, and graceful shutdown on SIGTERM.
func TestProcessLifecycle(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()

	// generate-config writes a config that parses.
	out, err := exec.Command(bin, "generate-config", "--server-name", "example.test").Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Parse(out); err != nil || !strings.Contains(string(out), `server_name: "example.test"`) {
		t.Fatalf("generated config invalid: %v", err)
	}

	clientAddr, metricsAddr := freePort(t), freePort(t)
	cfgText := strings.NewReplacer(
		`address: "127.0.0.1:8008"`, fmt.Sprintf("address: %q", clientAddr),
		`address: "127.0.0.1:9108"`, fmt.Sprintf("address: %q", metricsAddr),
		`data_dir: "./data"`, fmt.Sprintf("data_dir: %q", filepath.Join(dir, "data")),
	).Replace(config.Example("example.test"))
	cfgPath := filepath.Join(dir, "axon.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}

	// create-account works before the server runs (and refuses a duplicate).
	out, err = exec.Command(bin, "create-account", "--config", cfgPath, "--user", "admin1", "--password", "correct horse", "--admin").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "@admin1:example.test") {
		t.Fatalf("create-account: %v\n%s", err, out)
	}
	if out, err = exec.Command(bin, "create-account", "--config", cfgPath, "--user", "admin1", "--password", "x").CombinedOutput(); err == nil {
		t.Fatalf("duplicate create-account succeeded: %s", out)
	}

	cmd := exec.Command(bin, "run", "--config", cfgPath)
	// An io.Pipe, not StderrPipe: Wait then returns only after every line
	// the process wrote has been copied, so the last ones are not lost.
	stderr, stderrW := io.Pipe()
	cmd.Stderr = stderrW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case logs <- sc.Text():
			default:
			}
		}
		close(logs)
	}()
	defer cmd.Process.Kill()

	base := "http://" + clientAddr
	waitFor(t, base+"/_matrix/client/versions")
	resp, err := http.Get(base + "/_matrix/client/v3/does-not-exist")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 || !strings.Contains(string(body), "M_UNRECOGNIZED") {
		t.Fatalf("unknown endpoint: %d %s", resp.StatusCode, body)
	}
	// The account created offline can log in.
	resp, err = http.Post(base+"/_matrix/client/v3/login", "application/json", strings.NewReader(
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"admin1"},"password":"correct horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.Contains(string(body), "access_token") {
		t.Fatalf("login as created account: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "axon_http_request_duration_seconds") {
		t.Fatalf("metrics missing request histogram")
	}
	// The binary's version (main.version, set by -ldflags in the image)
	// is what axon_build_info reports.
	if want := fmt.Sprintf(`axon_build_info{go_version=%q,version=%q} 1`, runtime.Version(), version); !strings.Contains(string(body), want) {
		t.Fatalf("metrics lack %s", want)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { err := cmd.Wait(); stderrW.Close(); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30s of SIGTERM")
	}
	var sawStopped bool
	for line := range logs {
		if strings.Contains(line, "stopped") {
			sawStopped = true
		}
	}
	if !sawStopped {
		t.Fatal("no 'stopped' log line after graceful shutdown")
	}

	// Start-up errors name the bad key and exit non-zero.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("server_name: x\nregistration:\n  mode: maybe\n"), 0o600)
	out, err = exec.Command(bin, "run", "--config", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "registration.mode") {
		t.Fatalf("bad config: err=%v out=%s", err, out)
	}
}

func waitFor(t *testing.T, url string) {
	t.Helper()
	testutil.Eventually(t, 60*time.Second, "the server at "+url+" to come up", func() bool {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}
