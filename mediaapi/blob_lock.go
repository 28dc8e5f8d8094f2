package mediaapi

import (
	"context"
	"crypto/rand"
	"time"
)

// Every mediaapi process on one store shares its files, so storing and
// deleting one are serialised through the database (storage/blobs.go)
// rather than in the process.
const (
	// blobLockStale is when a pin or deletion mark is taken for one left
	// by a process that died: longer than any commit+record or delete.
	blobLockStale = 10 * time.Minute
	// blobBusyPoll is how often a store retries while the same file is
	// being deleted (a delete takes milliseconds).
	blobBusyPoll = 20 * time.Millisecond
	// blobUnlockTimeout bounds clearing a pin or mark, which runs even
	// when the request was cancelled.
	blobUnlockTimeout = 10 * time.Second
)

// pinBlob pins sha so that no process deletes its file until unpinBlob,
// waiting while a deletion of it is under way.
func (m *MediaAPI) pinBlob(ctx context.Context, sha string) (string, error) {
	token := rand.Text()
	for {
		now := time.Now()
		ok, err := m.db.PinBlob(ctx, sha, token, now.UnixMilli(), now.Add(-blobLockStale).UnixMilli())
		if err != nil || ok {
			return token, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(blobBusyPoll):
		}
	}
}

func (m *MediaAPI) unpinBlob(ctx context.Context, sha, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), blobUnlockTimeout)
	defer cancel()
	if err := m.db.UnpinBlob(ctx, sha, token); err != nil {
		m.log.Warn("unpinning a stored file (expires by itself)", "sha256", sha, "error", err)
	}
}

// deleteUnusedFile removes a stored file if no row or pin refers to it.
func (m *MediaAPI) deleteUnusedFile(ctx context.Context, sha string) error {
	now := time.Now()
	stale := now.Add(-blobLockStale).UnixMilli()
	marked, err := m.db.MarkDeleting(ctx, sha, now.UnixMilli(), stale)
	if err != nil || !marked {
		return err
	}
	delErr := m.store.Delete(ctx, sha)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), blobUnlockTimeout)
	defer cancel()
	if err := m.db.ClearDeleting(ctx, sha, now.UnixMilli(), stale); err != nil {
		return err
	}
	return delErr
}
