// Package api is the keyserver's public surface: the Go interface other
// components call (served over internal/rpc in a polylith, so every
// argument and result is plain JSON-encodable data) and the type of the
// device_list_updates stream. It holds no logic.
package api

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface KeyserverAPI

import (
	"context"
	"encoding/json"

	"github.com/axon-hs/axon/internal/matrixid"
)

// KeyserverAPI is what other components may ask of the keyserver. User
// IDs are full Matrix IDs; key objects are the signed JSON clients upload,
// kept byte for byte (their signatures cover them).
type KeyserverAPI interface {
	// UploadKeys stores a device's identity, one-time and fallback keys
	// and returns its remaining one-time key counts. ErrInvalidKeys (with
	// detail) when device_keys do not belong to the calling device.
	UploadKeys(ctx context.Context, req *UploadKeysRequest) (*UploadKeysResponse, error)
	// QueryKeys returns device and cross-signing keys of the users asked.
	// Users of other servers are asked through the federation hook when
	// one is set; their servers are listed in Failures otherwise.
	QueryKeys(ctx context.Context, req *QueryKeysRequest) (*QueryKeysResponse, error)
	// ClaimKeys hands out one one-time key per device asked, each at most
	// once, or the device's fallback key when none is left.
	ClaimKeys(ctx context.Context, req *ClaimKeysRequest) (*ClaimKeysResponse, error)
	// KeyCounts is what /sync tells a device about its own keys.
	KeyCounts(ctx context.Context, userID matrixid.UserID, deviceID string) (*KeyCounts, error)
	// DeleteDeviceKeys forgets the keys of deleted devices and announces
	// the change. Devices that had no keys are ignored.
	DeleteDeviceKeys(ctx context.Context, userID matrixid.UserID, deviceIDs []string) error
	// LocalUserDevices is a local user's device list as federation's
	// GET /user/devices serves it.
	LocalUserDevices(ctx context.Context, userID matrixid.UserID) (*UserDevices, error)

	// CrossSigningKeys returns the user's stored cross-signing keys.
	CrossSigningKeys(ctx context.Context, userID matrixid.UserID) (*CrossSigningKeys, error)
	// UploadCrossSigningKeys replaces the keys given (the caller has done
	// any user-interactive auth). ErrInvalidSignature, ErrInvalidKeys,
	// ErrMissingMasterKey.
	UploadCrossSigningKeys(ctx context.Context, userID matrixid.UserID, keys *CrossSigningKeys) error
	// UploadSignatures adds signatures made by userID to device and
	// cross-signing keys: signed maps user ID → key ID (device ID or
	// public key) → the signed object. Per-key failures are returned.
	UploadSignatures(ctx context.Context, userID matrixid.UserID, signed map[string]map[string]json.RawMessage) (map[string]map[string]*KeyError, error)

	// Server-side key backup (spec "Server-side key backups"). Versions
	// are decimal strings; "" means the current (newest) version.
	// ErrNoBackup when the version does not exist (or was deleted).
	CreateBackupVersion(ctx context.Context, userID matrixid.UserID, info *BackupVersionInfo) (version string, err error)
	BackupVersion(ctx context.Context, userID matrixid.UserID, version string) (*BackupVersionInfo, error)
	UpdateBackupVersion(ctx context.Context, userID matrixid.UserID, version string, info *BackupVersionInfo) error
	DeleteBackupVersion(ctx context.Context, userID matrixid.UserID, version string) error
	// PutRoomKeys stores sessions into version, which must be the current
	// one (ErrWrongBackupVersion otherwise), keeping the better of an old
	// and new copy of each session per the spec's rules.
	PutRoomKeys(ctx context.Context, userID matrixid.UserID, version string, rooms map[string]map[string]*KeyBackupData) (*BackupCount, error)
	// RoomKeys reads sessions: all (roomID ""), one room's, or one
	// session (ErrNoBackup when it is not stored).
	RoomKeys(ctx context.Context, userID matrixid.UserID, version string, roomID matrixid.RoomID, sessionID string) (map[string]map[string]*KeyBackupData, error)
	DeleteRoomKeys(ctx context.Context, userID matrixid.UserID, version string, roomID matrixid.RoomID, sessionID string) (*BackupCount, error)
}

// UploadKeysRequest is POST /keys/upload for one device.
type UploadKeysRequest struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
	// DeviceKeys, OneTimeKeys and FallbackKeys may each be absent.
	DeviceKeys   json.RawMessage            `json:"device_keys,omitempty"`
	OneTimeKeys  map[string]json.RawMessage `json:"one_time_keys,omitempty"`
	FallbackKeys map[string]json.RawMessage `json:"fallback_keys,omitempty"`
}

// UploadKeysResponse carries the counts after the upload.
type UploadKeysResponse struct {
	OneTimeKeyCounts map[string]int `json:"one_time_key_counts"`
}

// QueryKeysRequest is POST /keys/query: user → device IDs (empty: all).
type QueryKeysRequest struct {
	// UserID is who asks (sees their own user-signing key); empty for a
	// request from another server.
	UserID     string              `json:"user_id,omitempty"`
	DeviceKeys map[string][]string `json:"device_keys"`
	TimeoutMs  int64               `json:"timeout,omitempty"`
}

// QueryKeysResponse is the /keys/query response body.
type QueryKeysResponse struct {
	Failures        map[string]json.RawMessage            `json:"failures"`
	DeviceKeys      map[string]map[string]json.RawMessage `json:"device_keys"`
	MasterKeys      map[string]json.RawMessage            `json:"master_keys"`
	SelfSigningKeys map[string]json.RawMessage            `json:"self_signing_keys"`
	UserSigningKeys map[string]json.RawMessage            `json:"user_signing_keys,omitempty"`
}

// ClaimKeysRequest is POST /keys/claim: user → device → algorithm.
type ClaimKeysRequest struct {
	OneTimeKeys map[string]map[string]string `json:"one_time_keys"`
	TimeoutMs   int64                        `json:"timeout,omitempty"`
}

// ClaimKeysResponse: user → device → "algorithm:key_id" → key.
type ClaimKeysResponse struct {
	Failures    map[string]json.RawMessage                       `json:"failures"`
	OneTimeKeys map[string]map[string]map[string]json.RawMessage `json:"one_time_keys"`
}

// KeyCounts is a device's unclaimed one-time keys per algorithm and the
// algorithms whose fallback key has not been handed out.
type KeyCounts struct {
	OneTimeKeyCounts      map[string]int `json:"one_time_key_counts"`
	UnusedFallbackKeyAlgs []string       `json:"unused_fallback_key_types"`
}

// CrossSigningKeys are a user's master, self-signing and user-signing
// keys (each optional), as uploaded.
type CrossSigningKeys struct {
	Master      json.RawMessage `json:"master_key,omitempty"`
	SelfSigning json.RawMessage `json:"self_signing_key,omitempty"`
	UserSigning json.RawMessage `json:"user_signing_key,omitempty"`
}

// KeyError is a per-key failure of UploadSignatures.
type KeyError struct {
	ErrCode string `json:"errcode"`
	Err     string `json:"error"`
}

// UserDevices is federation's view of a local user's devices.
type UserDevices struct {
	UserID         string          `json:"user_id"`
	StreamID       int64           `json:"stream_id"`
	Devices        []DeviceKeys    `json:"devices"`
	MasterKey      json.RawMessage `json:"master_key,omitempty"`
	SelfSigningKey json.RawMessage `json:"self_signing_key,omitempty"`
}

// DeviceKeys is one device with its identity keys (nil when it never
// uploaded any).
type DeviceKeys struct {
	DeviceID    string          `json:"device_id"`
	DisplayName string          `json:"device_display_name,omitempty"`
	Keys        json.RawMessage `json:"keys,omitempty"`
}

// BackupVersionInfo describes one key backup version.
type BackupVersionInfo struct {
	Version   string          `json:"version"`
	Algorithm string          `json:"algorithm"`
	AuthData  json.RawMessage `json:"auth_data"`
	Count     int64           `json:"count"`
	ETag      string          `json:"etag"`
}

// KeyBackupData is one backed-up megolm session.
type KeyBackupData struct {
	FirstMessageIndex int64           `json:"first_message_index"`
	ForwardedCount    int64           `json:"forwarded_count"`
	IsVerified        bool            `json:"is_verified"`
	SessionData       json.RawMessage `json:"session_data"`
}

// BackupCount is what a write to a backup answers.
type BackupCount struct {
	Count int64  `json:"count"`
	ETag  string `json:"etag"`
}
