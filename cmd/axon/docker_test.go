package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/config"
)

// TestDockerfileBuilds builds the image where a Docker daemon answers
// (skipped elsewhere: the build needs the daemon and the base images).
func TestDockerfileBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building the Docker image")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker is not available here, Dockerfile not built: %v (%.200s)", err, out)
	}
	out, err := exec.Command("docker", "build", "-q", "-t", "axon:test", "../..").CombinedOutput()
	if err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
}

// TestDockerEntrypointConfig: the image's entrypoint rewrites the
// generated config with sed (listen on every interface, data in /data);
// its patterns must still match what generate-config writes, or the
// container would listen on loopback only and keep data outside the
// volume. Runs everywhere (no Docker needed).
func TestDockerEntrypointConfig(t *testing.T) {
	script, err := os.ReadFile("../../contrib/docker-entrypoint.sh")
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, m := range regexp.MustCompile(`-e 's\|([^|]*)\|([^|]*)\|'`).FindAllStringSubmatch(string(script), -1) {
		pairs = append(pairs, m[1], m[2])
	}
	if len(pairs) != 4 {
		t.Fatalf("entrypoint sed expressions: found %d, want 2", len(pairs)/2)
	}
	example := config.Example("example.test")
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(example, pairs[i]) {
			t.Errorf("generated config has no %q for the entrypoint to replace", pairs[i])
		}
	}
	cfg, err := config.Parse([]byte(strings.NewReplacer(pairs...).Replace(example)))
	if err != nil {
		t.Fatalf("config after the entrypoint's edits: %v", err)
	}
	if cfg.Listeners.Client.Address != "0.0.0.0:8008" || cfg.DataDir != "/data" {
		t.Fatalf("after the entrypoint: client listener %q, data_dir %q", cfg.Listeners.Client.Address, cfg.DataDir)
	}
}
