package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
)

// TestJSONLogs runs the binary with logging.format json at debug level
// and the access log on, makes requests (including an outbound federation
// request, which gomatrixserverlib logs through logrus), and checks that
// every line it wrote is a JSON object and that the access log names the
// route template and the user.
func TestJSONLogs(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	clientAddr := freePort(t)
	cfgText := strings.NewReplacer(
		`address: "127.0.0.1:8008"`, fmt.Sprintf("address: %q", clientAddr),
		`address: "127.0.0.1:9108"`, `address: ""`,
		`data_dir: "./data"`, fmt.Sprintf("data_dir: %q", filepath.Join(dir, "data")),
		`level: "info"`, `level: "debug"`,
		`format: "text"`, `format: "json"`,
		`access_log: false`, `access_log: true`,
		`allowed_private_networks: []`, `allowed_private_networks: ["127.0.0.0/8"]`,
	).Replace(config.Example("example.test"))
	cfgPath := filepath.Join(dir, "axon.yaml")
	must(t, os.WriteFile(cfgPath, []byte(cfgText), 0o600))
	out, err := exec.Command(bin, "create-account", "--config", cfgPath, "--user", "ops", "--password", "correct horse", "--admin").CombinedOutput()
	if err != nil {
		t.Fatalf("create-account: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "run", "--config", cfgPath)
	stderr, stderrW := io.Pipe()
	cmd.Stderr = stderrW
	must(t, cmd.Start())
	defer cmd.Process.Kill()
	lines := make(chan []string, 1)
	go func() {
		var all []string
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			all = append(all, sc.Text())
		}
		lines <- all
	}()

	base := "http://" + clientAddr
	waitFor(t, base+"/_matrix/client/versions")
	token := loginToken(t, base, "ops", "correct horse")
	for _, path := range []string{
		"/_matrix/client/v3/account/whoami",
		"/_matrix/client/v3/directory/room/%23room:127.0.0.1:1", // outbound federation, refused by the remote
		"/_matrix/client/v3/nope",
	} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
	}

	must(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { err := cmd.Wait(); stderrW.Close(); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30s")
	}
	all := <-lines
	if len(all) < 5 {
		t.Fatalf("only %d log lines", len(all))
	}
	sawAccess, fromLogrus := false, 0
	for _, l := range all {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["library"] == "logrus" {
			fromLogrus++
		}
		if m["log"] == "access" && m["route"] == "/_matrix/client/v3/account/whoami" && m["user"] == "@ops:example.test" && m["status"] == float64(200) {
			sawAccess = true
		}
		if raw, _ := m["msg"].(string); strings.Contains(raw, "correct horse") || strings.Contains(l, token) {
			t.Fatalf("a secret reached the log: %q", l)
		}
	}
	t.Logf("%d log lines, %d of them from logrus", len(all), fromLogrus)
	if !sawAccess {
		t.Fatalf("no access log line for whoami in:\n%s", strings.Join(all, "\n"))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// loginToken logs in with a password and returns the access token.
func loginToken(t *testing.T, base, user, password string) string {
	t.Helper()
	body := fmt.Sprintf(`{"type":"m.login.password","identifier":{"type":"m.id.user","user":%q},"password":%q}`, user, password)
	resp, err := http.Post(base+"/_matrix/client/v3/login", "application/json", strings.NewReader(body))
	must(t, err)
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	must(t, json.NewDecoder(resp.Body).Decode(&out))
	if out.AccessToken == "" {
		t.Fatalf("login %s: status %d", user, resp.StatusCode)
	}
	return out.AccessToken
}
