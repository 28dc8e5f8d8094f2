package api

import (
	"errors"

	"github.com/axon-hs/axon/internal/rpc"
)

// Errors callers answer differently; they may be wrapped with detail
// (match with errors.Is). They cross internal/rpc as themselves.
var (
	ErrInvalidKeys        = errors.New("invalid keys")
	ErrInvalidSignature   = errors.New("invalid signature")
	ErrMissingMasterKey   = errors.New("no master signing key")
	ErrKeyInUse           = errors.New("key ID in use by a device")
	ErrNoBackup           = errors.New("unknown backup version")
	ErrWrongBackupVersion = errors.New("wrong backup version")
	ErrNotLocal           = errors.New("not a local user")
)

func init() {
	for kind, err := range map[string]error{
		"keyserver.invalid_keys":         ErrInvalidKeys,
		"keyserver.invalid_signature":    ErrInvalidSignature,
		"keyserver.missing_master_key":   ErrMissingMasterKey,
		"keyserver.key_in_use":           ErrKeyInUse,
		"keyserver.no_backup":            ErrNoBackup,
		"keyserver.wrong_backup_version": ErrWrongBackupVersion,
		"keyserver.not_local":            ErrNotLocal,
	} {
		rpc.RegisterSentinel(kind, err)
	}
}
