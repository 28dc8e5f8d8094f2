package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestMediaS3 runs uploads, downloads, thumbnails and a restart on the S3
// backend against the real S3-compatible server .ci/run starts (SeaweedFS
// on 127.0.0.1:8333; AXON_TEST_S3_ENDPOINT overrides, AXON_SKIP_S3=1 skips).
func TestMediaS3(t *testing.T) {
	if os.Getenv("AXON_SKIP_S3") == "1" {
		t.Skip("AXON_SKIP_S3=1")
	}
	endpoint := os.Getenv("AXON_TEST_S3_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://127.0.0.1:8333"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Media.Storage = "s3"
		cfg.Media.S3 = config.MediaS3{Endpoint: endpoint, Bucket: "axon-e2e-" + hex.EncodeToString(b[:]),
			AccessKey: "axon", SecretKey: "axon-test-secret", Region: "us-east-1", PathStyle: true, Prefix: "media"}
	}})
	alice := inst.Register("alice", "password123")
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	uri := mediaUpload(t, alice, data, "application/octet-stream", "blob.bin")
	if _, got := mediaDownload(t, alice, uri); !bytes.Equal(got, data) {
		t.Fatal("S3 download differs")
	}
	imgURI := mediaUpload(t, alice, mediaPNG(t, 800, 600), "image/png", "")
	cfg, _, _ := mediaThumbnailSize(t, alice, imgURI, 320, 240, "scale")
	if cfg.Width != 320 || cfg.Height != 240 {
		t.Fatalf("S3 thumbnail %dx%d", cfg.Width, cfg.Height)
	}
	inst.Restart()
	if _, got := mediaDownload(t, alice, uri); !bytes.Equal(got, data) {
		t.Fatal("S3 download after restart differs")
	}
}
