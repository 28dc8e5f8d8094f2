package mediaapi

import (
	"context"
	"errors"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/mediaapi/api"
	"github.com/axon-hs/axon/mediaapi/blob"
	"github.com/axon-hs/axon/mediaapi/storage"
)

var _ api.MediaAdminAPI = (*MediaAPI)(nil)

// adminBatch is how many rows one pass of a bulk deletion reads.
const adminBatch = 200

func apiMedia(m *storage.Media) api.Media {
	return api.Media{Origin: m.Origin, MediaID: m.MediaID, Uploader: m.Uploader, ContentType: m.ContentType,
		FileName: m.FileName, Size: m.Size, SHA256: m.SHA256, CreatedTS: m.CreatedTS, LastAccessTS: m.LastAccess,
		Quarantined: m.Quarantined, QuarantinedBy: m.QuarantinedBy, Protected: m.Protected}
}

func notFound(err error) error {
	if errors.Is(err, istorage.ErrNotFound) {
		return api.ErrNotFound
	}
	return err
}

// UserMedia implements api.MediaAdminAPI.
func (m *MediaAPI) UserMedia(ctx context.Context, q api.UserMediaQuery) (*api.UserMediaPage, error) {
	if q.OrderBy == "" {
		q.OrderBy = "created_ts"
	}
	if !storage.UserMediaOrder(q.OrderBy) {
		return nil, api.ErrInvalidOrder
	}
	rows, total, err := m.db.UserMedia(ctx, m.serverName, q.UserID, q.OrderBy, q.Desc, max(q.From, 0), q.Limit)
	if err != nil {
		return nil, err
	}
	page := &api.UserMediaPage{Media: make([]api.Media, 0, len(rows)), Total: total}
	for i := range rows {
		page.Media = append(page.Media, apiMedia(&rows[i]))
	}
	return page, nil
}

// DeleteUserMedia implements api.MediaAdminAPI.
func (m *MediaAPI) DeleteUserMedia(ctx context.Context, q api.UserMediaQuery) ([]string, error) {
	page, err := m.UserMedia(ctx, q)
	if err != nil {
		return nil, err
	}
	deleted := []string{}
	for _, md := range page.Media {
		if err := m.deleteMedia(ctx, md.Origin, md.MediaID); err != nil {
			return deleted, err
		}
		deleted = append(deleted, md.MediaID)
	}
	return deleted, nil
}

// MediaInfo implements api.MediaAdminAPI.
func (m *MediaAPI) MediaInfo(ctx context.Context, origin, mediaID string) (*api.Media, error) {
	row, err := m.db.Media(ctx, origin, mediaID)
	if err != nil {
		return nil, notFound(err)
	}
	md := apiMedia(row)
	return &md, nil
}

// Quarantine implements api.MediaAdminAPI.
func (m *MediaAPI) Quarantine(ctx context.Context, media []api.MXC, by string) (int, error) {
	refs := make([]storage.Ref, 0, len(media))
	for _, x := range media {
		if validServerName(x.Origin) && validMediaID(x.MediaID) {
			refs = append(refs, storage.Ref{Origin: x.Origin, MediaID: x.MediaID})
		}
	}
	return m.db.Quarantine(ctx, m.serverName, refs, by, time.Now().UnixMilli())
}

// QuarantineUserMedia implements api.MediaAdminAPI.
func (m *MediaAPI) QuarantineUserMedia(ctx context.Context, userID, by string) (int, error) {
	return m.db.QuarantineUploader(ctx, m.serverName, userID, by)
}

// Unquarantine implements api.MediaAdminAPI.
func (m *MediaAPI) Unquarantine(ctx context.Context, origin, mediaID string) error {
	return notFound(m.db.Unquarantine(ctx, origin, mediaID))
}

// SetProtected implements api.MediaAdminAPI.
func (m *MediaAPI) SetProtected(ctx context.Context, mediaID string, protected bool) error {
	return notFound(m.db.SetProtected(ctx, m.serverName, mediaID, protected))
}

// DeleteMedia implements api.MediaAdminAPI.
func (m *MediaAPI) DeleteMedia(ctx context.Context, origin, mediaID string) error {
	if _, err := m.db.Media(ctx, origin, mediaID); err != nil {
		return notFound(err)
	}
	return m.deleteMedia(ctx, origin, mediaID)
}

// DeleteLocalMedia implements api.MediaAdminAPI.
func (m *MediaAPI) DeleteLocalMedia(ctx context.Context, q api.DeleteLocalQuery) ([]string, error) {
	keep := make(map[string]bool, len(q.Keep))
	for _, k := range q.Keep {
		if k.Origin == m.serverName {
			keep[k.MediaID] = true
		}
	}
	deleted := []string{}
	after := ""
	for {
		rows, err := m.db.LocalBefore(ctx, m.serverName, q.BeforeTS, q.SizeGT, after, adminBatch)
		if err != nil || len(rows) == 0 {
			return deleted, err
		}
		for _, row := range rows {
			after = row.MediaID
			if keep[row.MediaID] {
				continue
			}
			if err := m.deleteMedia(ctx, row.Origin, row.MediaID); err != nil {
				return deleted, err
			}
			deleted = append(deleted, row.MediaID)
		}
	}
}

// PurgeRemoteCache implements api.MediaAdminAPI.
func (m *MediaAPI) PurgeRemoteCache(ctx context.Context, beforeTS int64) (int, error) {
	return m.evictRemote(ctx, time.UnixMilli(beforeTS))
}

// FilesOf lists the stored files (hashes) of a file and its thumbnails,
// and FileStored whether the store still holds one: for operators'
// checks and tests of deletion.
func (m *MediaAPI) FilesOf(ctx context.Context, origin, mediaID string) ([]string, error) {
	return m.db.FilesOf(ctx, origin, mediaID)
}

// FileStored reports whether the store holds the file sha.
func (m *MediaAPI) FileStored(ctx context.Context, sha string) (bool, error) {
	f, err := m.store.Open(ctx, sha)
	if errors.Is(err, blob.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f.Close()
	return true, nil
}
