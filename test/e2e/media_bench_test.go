package e2e

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// BenchmarkMediaUpload10MB and BenchmarkMediaDownload10MB report MB/s
// through the real HTTP stack (SQLite, file store).
func BenchmarkMediaUpload10MB(b *testing.B) {
	inst := testserver.Start(b, testserver.Options{})
	alice := inst.Register("alice", "password123")
	data := make([]byte, 10<<20)
	_, _ = rand.Read(data)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data[0] = byte(i) // distinct content each time: no deduplication shortcut
		if _, err := alice.UploadMedia(context.Background(), mautrix.ReqUploadMedia{ContentBytes: data, ContentType: "application/octet-stream"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMediaDownload10MB(b *testing.B) {
	inst := testserver.Start(b, testserver.Options{})
	alice := inst.Register("alice", "password123")
	data := make([]byte, 10<<20)
	_, _ = rand.Read(data)
	uri := mediaUpload(b, alice, data, "application/octet-stream", "")
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := alice.Download(context.Background(), uri)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("%d bytes: %v", n, err)
		}
	}
}

// BenchmarkMediaUpload100MBPeakRSS uploads 100 MB streamed from a reader
// and reports the process's peak RSS (VmHWM) growth: the upload is spooled
// to disk, never held in memory.
func BenchmarkMediaUpload100MBPeakRSS(b *testing.B) {
	inst := testserver.Start(b, testserver.Options{Configure: func(cfg *config.Config) { cfg.Limits.MaxUploadBytes = 200 << 20 }})
	alice := inst.Register("alice", "password123")
	before := vmHWM(b)
	for i := 0; i < b.N; i++ {
		req, err := http.NewRequest(http.MethodPost, inst.URL+"/_matrix/media/v3/upload", io.LimitReader(zeroReader{}, 100<<20))
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = 100 << 20
		req.Header.Set("Authorization", "Bearer "+alice.AccessToken)
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := acctHTTPClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	b.ReportMetric(float64(vmHWM(b)-before)/1024, "peakRSS-growth-MB")
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// vmHWM is the process's peak resident set in KiB.
func vmHWM(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkMediaFederation50Concurrent: 50 clients on B download the same
// media of A at once (one federation fetch; see
// TestMediaFederationConcurrentFetch for the count).
func BenchmarkMediaFederation50Concurrent(b *testing.B) {
	a := testserver.Start(b, testserver.Options{Configure: testserver.Federated(b)})
	srvB := testserver.Start(b, testserver.Options{Configure: testserver.Federated(b)})
	alice := a.Register("alice", "password123")
	bob := srvB.Register("bob", "password123")
	data := make([]byte, 1<<20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, _ = rand.Read(data)
		uri := mediaUpload(b, alice, data, "application/octet-stream", "")
		b.StartTimer()
		if err := mediaConcurrentDownloads(bob, uri, data, 50); err != nil {
			b.Fatal(err)
		}
	}
}
