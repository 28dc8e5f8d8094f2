package blob

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// FileStore keeps files under a directory, named by hash.
type FileStore struct {
	dir string
}

// NewFileStore stores under dir (created if missing). Spool into
// TempDir(dir) so commits are renames on one file system.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return &FileStore{dir: dir}, nil
}

// TempDir is where uploads are spooled for a store under dir.
func TempDir(dir string) string { return filepath.Join(dir, "tmp") }

// Commit renames the spooled file into place.
func (s *FileStore) Commit(ctx context.Context, sp *Spooled) error {
	if err := validSHA(sp.SHA256); err != nil {
		return err
	}
	dst := filepath.Join(s.dir, relPath(sp.SHA256))
	if _, err := os.Stat(dst); err == nil { // already stored: one copy
		sp.Remove()
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	return os.Rename(sp.Path, dst)
}

// Open opens a stored file.
func (s *FileStore) Open(ctx context.Context, sha string) (File, error) {
	if err := validSHA(sha); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.dir, relPath(sha)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &osFile{File: f, size: st.Size()}, nil
}

// Delete removes a stored file.
func (s *FileStore) Delete(ctx context.Context, sha string) error {
	if err := validSHA(sha); err != nil {
		return err
	}
	err := os.Remove(filepath.Join(s.dir, relPath(sha)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

type osFile struct {
	*os.File
	size int64
}

func (f *osFile) Size() int64 { return f.size }
