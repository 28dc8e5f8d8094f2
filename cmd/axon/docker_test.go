package main

import (
	"os/exec"
	"testing"
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
