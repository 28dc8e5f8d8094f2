package keyserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/keyserver/api"
	"github.com/axon-hs/axon/keyserver/storage"
)

// parseVersion reads a backup version string; "" is the current version
// (0). Anything else unparseable names no backup.
func parseVersion(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: %q", api.ErrNoBackup, v)
	}
	return n, nil
}

// backupErr maps storage errors to the api's.
func backupErr(err error) error {
	switch {
	case errors.Is(err, istorage.ErrNotFound):
		return api.ErrNoBackup
	case errors.Is(err, storage.ErrWrongVersion):
		return api.ErrWrongBackupVersion
	}
	return err
}

// CreateBackupVersion implements api.KeyserverAPI.
func (k *Keyserver) CreateBackupVersion(ctx context.Context, userID matrixid.UserID, info *api.BackupVersionInfo) (string, error) {
	v, err := k.db.CreateBackupVersion(ctx, string(userID), info.Algorithm, info.AuthData)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(v, 10), nil
}

// BackupVersion implements api.KeyserverAPI.
func (k *Keyserver) BackupVersion(ctx context.Context, userID matrixid.UserID, version string) (*api.BackupVersionInfo, error) {
	v, err := parseVersion(version)
	if err != nil {
		return nil, err
	}
	b, err := k.db.BackupVersion(ctx, string(userID), v)
	if err != nil {
		return nil, backupErr(err)
	}
	return &api.BackupVersionInfo{Version: strconv.FormatInt(b.Version, 10), Algorithm: b.Algorithm, AuthData: b.AuthData,
		Count: b.Count, ETag: strconv.FormatInt(b.ETag, 10)}, nil
}

// UpdateBackupVersion implements api.KeyserverAPI. Only auth_data may
// change; the algorithm must stay the same (ErrInvalidKeys otherwise).
func (k *Keyserver) UpdateBackupVersion(ctx context.Context, userID matrixid.UserID, version string, info *api.BackupVersionInfo) error {
	cur, err := k.BackupVersion(ctx, userID, version)
	if err != nil {
		return err
	}
	if version == "" {
		return api.ErrNoBackup
	}
	if info.Algorithm != cur.Algorithm {
		return fmt.Errorf("%w: algorithm does not match the backup's", api.ErrInvalidKeys)
	}
	v, _ := parseVersion(version)
	return backupErr(k.db.UpdateBackupAuthData(ctx, string(userID), v, info.AuthData))
}

// DeleteBackupVersion implements api.KeyserverAPI.
func (k *Keyserver) DeleteBackupVersion(ctx context.Context, userID matrixid.UserID, version string) error {
	v, err := parseVersion(version)
	if err != nil || v == 0 {
		return api.ErrNoBackup
	}
	return backupErr(k.db.DeleteBackupVersion(ctx, string(userID), v))
}

// PutRoomKeys implements api.KeyserverAPI.
func (k *Keyserver) PutRoomKeys(ctx context.Context, userID matrixid.UserID, version string, rooms map[string]map[string]*api.KeyBackupData) (*api.BackupCount, error) {
	v, err := parseVersion(version)
	if err != nil || v == 0 {
		return nil, api.ErrNoBackup
	}
	var keys []storage.BackupKey
	for roomID, sessions := range rooms {
		for sessionID, d := range sessions {
			if d == nil {
				continue
			}
			keys = append(keys, storage.BackupKey{RoomID: roomID, SessionID: sessionID, FirstMessageIndex: d.FirstMessageIndex,
				ForwardedCount: d.ForwardedCount, IsVerified: d.IsVerified, SessionData: d.SessionData})
		}
	}
	count, etag, err := k.db.PutBackupKeys(ctx, string(userID), v, keys)
	if err != nil {
		return nil, backupErr(err)
	}
	return &api.BackupCount{Count: count, ETag: strconv.FormatInt(etag, 10)}, nil
}

// RoomKeys implements api.KeyserverAPI.
func (k *Keyserver) RoomKeys(ctx context.Context, userID matrixid.UserID, version string, roomID matrixid.RoomID, sessionID string) (map[string]map[string]*api.KeyBackupData, error) {
	v, err := parseVersion(version)
	if err != nil || v == 0 {
		return nil, api.ErrNoBackup
	}
	keys, err := k.db.BackupKeys(ctx, string(userID), v, string(roomID), sessionID)
	if err != nil {
		return nil, backupErr(err)
	}
	if sessionID != "" && len(keys) == 0 {
		return nil, fmt.Errorf("%w: no such session", api.ErrNoBackup)
	}
	out := map[string]map[string]*api.KeyBackupData{}
	for _, key := range keys {
		if out[key.RoomID] == nil {
			out[key.RoomID] = map[string]*api.KeyBackupData{}
		}
		out[key.RoomID][key.SessionID] = &api.KeyBackupData{FirstMessageIndex: key.FirstMessageIndex,
			ForwardedCount: key.ForwardedCount, IsVerified: key.IsVerified, SessionData: key.SessionData}
	}
	return out, nil
}

// DeleteRoomKeys implements api.KeyserverAPI.
func (k *Keyserver) DeleteRoomKeys(ctx context.Context, userID matrixid.UserID, version string, roomID matrixid.RoomID, sessionID string) (*api.BackupCount, error) {
	v, err := parseVersion(version)
	if err != nil || v == 0 {
		return nil, api.ErrNoBackup
	}
	count, etag, err := k.db.DeleteBackupKeys(ctx, string(userID), v, string(roomID), sessionID)
	if err != nil {
		return nil, backupErr(err)
	}
	return &api.BackupCount{Count: count, ETag: strconv.FormatInt(etag, 10)}, nil
}
