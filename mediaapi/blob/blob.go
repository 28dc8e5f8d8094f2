// Package blob keeps media files by the SHA-256 of their content, on the
// local disk (File) or in an S3-compatible bucket (S3). An upload is first
// spooled to a temporary file while its hash is computed (so it is never
// held in memory and never stored under a wrong name), then committed.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ErrNotFound: no file with that hash is stored.
var ErrNotFound = errors.New("blob: not found")

// ErrTooLarge: the content is over the limit given to Spool.
var ErrTooLarge = errors.New("blob: content too large")

// Store keeps files by SHA-256 (lower-case hex).
type Store interface {
	// Commit moves the spooled file into the store under its hash and
	// removes it. Committing a hash already stored keeps one copy.
	Commit(ctx context.Context, s *Spooled) error
	// Open returns the content, or ErrNotFound.
	Open(ctx context.Context, sha string) (File, error)
	// Delete removes the content (no error when absent).
	Delete(ctx context.Context, sha string) error
}

// File is stored content: readable, seekable (HTTP ranges), with a size.
type File interface {
	io.ReadSeekCloser
	Size() int64
}

// Spooled is content written to a temporary file, with its hash.
type Spooled struct {
	Path   string
	SHA256 string
	Size   int64
	// Head is the first bytes, for content sniffing.
	Head []byte
}

// Remove deletes the temporary file (after a failed or skipped commit).
func (s *Spooled) Remove() { _ = os.Remove(s.Path) }

// Open reopens the temporary file (to thumbnail it before commit).
func (s *Spooled) Open() (*os.File, error) { return os.Open(s.Path) }

const headBytes = 512

// Spool copies r into a new file in dir, hashing as it goes. More than
// limit bytes gives ErrTooLarge (and no file). The file is synced, so a
// commit by rename is durable.
func Spool(dir string, r io.Reader, limit int64) (*Spooled, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return nil, err
	}
	s := &Spooled{Path: f.Name()}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			s.Remove()
		}
	}()
	h := sha256.New()
	head := &headWriter{max: headBytes}
	n, err := io.Copy(io.MultiWriter(f, h, head), io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, ErrTooLarge
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	s.SHA256, s.Size, s.Head = hex.EncodeToString(h.Sum(nil)), n, head.buf
	ok = true
	return s, nil
}

type headWriter struct {
	buf []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// validSHA guards paths and keys built from a hash.
func validSHA(sha string) error {
	if len(sha) != 64 {
		return fmt.Errorf("blob: invalid hash %q", sha)
	}
	for _, c := range sha {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("blob: invalid hash %q", sha)
		}
	}
	return nil
}

// relPath spreads files over 256×256 directories: ab/cd/abcd….
func relPath(sha string) string { return filepath.Join(sha[:2], sha[2:4], sha) }

// RemoveStale deletes spooled files older than age in dir: left by a
// crash between spool and commit.
func RemoveStale(dir string, age time.Duration) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	cutoff := time.Now().Add(-age)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() || !info.ModTime().Before(cutoff) {
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
	return nil
}
