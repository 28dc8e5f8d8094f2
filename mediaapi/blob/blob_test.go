package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/config"
)

// runStoreSuite is the one suite every backend passes.
func runStoreSuite(t *testing.T, store Store, tmp string) {
	ctx := context.Background()
	spool := func(data []byte) *Spooled {
		t.Helper()
		sp, err := Spool(tmp, bytes.NewReader(data), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	read := func(sha string) []byte {
		t.Helper()
		f, err := store.Open(ctx, sha)
		if err != nil {
			t.Fatalf("open %s: %v", sha, err)
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		if f.Size() != int64(len(data)) {
			t.Fatalf("Size() = %d, read %d bytes", f.Size(), len(data))
		}
		return data
	}

	t.Run("commit, open, seek", func(t *testing.T) {
		data := make([]byte, 100_000)
		_, _ = rand.Read(data)
		sp := spool(data)
		sum := sha256.Sum256(data)
		if sp.SHA256 != hex.EncodeToString(sum[:]) || sp.Size != int64(len(data)) || !bytes.Equal(sp.Head, data[:512]) {
			t.Fatalf("spooled %+v", sp)
		}
		if err := store.Commit(ctx, sp); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(sp.Path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("temporary file left after commit: %v", err)
		}
		if got := read(sp.SHA256); !bytes.Equal(got, data) {
			t.Fatal("content differs")
		}
		f, err := store.Open(ctx, sp.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Seek(99_990, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		tail, err := io.ReadAll(f)
		if err != nil || !bytes.Equal(tail, data[99_990:]) {
			t.Fatalf("seeked read: %v", err)
		}
	})
	t.Run("identical content stored once", func(t *testing.T) {
		data := []byte(fmt.Sprintf("same content %d", os.Getpid()))
		a, b := spool(data), spool(data)
		if err := store.Commit(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := store.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(b.Path); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("second copy's temporary file left")
		}
		if got := read(a.SHA256); !bytes.Equal(got, data) {
			t.Fatal("content differs")
		}
	})
	t.Run("delete, missing", func(t *testing.T) {
		sp := spool([]byte("to delete"))
		if err := store.Commit(ctx, sp); err != nil {
			t.Fatal(err)
		}
		if err := store.Delete(ctx, sp.SHA256); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Open(ctx, sp.SHA256); !errors.Is(err, ErrNotFound) {
			t.Fatalf("open after delete: %v", err)
		}
		if err := store.Delete(ctx, sp.SHA256); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
	})
	t.Run("bad hash refused", func(t *testing.T) {
		if _, err := store.Open(ctx, "../../etc/passwd"); err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("open of a path: %v", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		_, err := Spool(tmp, bytes.NewReader(make([]byte, 1001)), 1000)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v", err)
		}
		left, _ := os.ReadDir(tmp)
		for _, e := range left {
			if !e.IsDir() {
				t.Fatalf("temporary file %s left after a refused spool", e.Name())
			}
		}
	})
}

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	runStoreSuite(t, s, TempDir(dir))
}

// S3TestConfig is the S3-compatible server .ci/run starts (SeaweedFS on
// 127.0.0.1:8333), or AXON_TEST_S3_ENDPOINT.
func S3TestConfig(bucket string) config.MediaS3 {
	endpoint := os.Getenv("AXON_TEST_S3_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://127.0.0.1:8333"
	}
	return config.MediaS3{Endpoint: endpoint, Bucket: bucket, AccessKey: "axon", SecretKey: "axon-test-secret",
		Region: "us-east-1", PathStyle: true}
}

func TestS3Store(t *testing.T) {
	if os.Getenv("AXON_SKIP_S3") == "1" {
		t.Skip("AXON_SKIP_S3=1")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	cfg := S3TestConfig("axon-test-" + hex.EncodeToString(b[:]))
	s, err := NewS3Store(context.Background(), cfg)
	if err != nil {
		t.Fatalf("S3 server (started by .ci/run; AXON_SKIP_S3=1 skips): %v", err)
	}
	runStoreSuite(t, s, filepath.Join(t.TempDir(), "tmp"))
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	old, fresh := filepath.Join(dir, "upload-old"), filepath.Join(dir, "upload-new")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if err := RemoveStale(dir, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("fresh file removed (an upload in progress)")
	}
	if err := RemoveStale(filepath.Join(dir, "missing"), time.Hour); err != nil {
		t.Fatalf("missing dir: %v", err)
	}
}
