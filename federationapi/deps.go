package federationapi

import (
	"context"
	"encoding/json"

	"github.com/axon-hs/axon/internal/matrixid"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Users is the part of the userapi the federation routes call (profile
// queries, OpenID, device lists).
type Users interface {
	QueryAccount(ctx context.Context, userID matrixid.UserID) (*uapi.Account, error)
	QueryProfileFields(ctx context.Context, userID matrixid.UserID) (map[string]json.RawMessage, error)
	// QueryDevices lists a user's devices (device lists announced on join).
	QueryDevices(ctx context.Context, userID matrixid.UserID) ([]uapi.DeviceInfo, error)
}

// Keys is the part of the keyserver other servers reach through us: our
// users' device lists and keys.
type Keys interface {
	LocalUserDevices(ctx context.Context, userID matrixid.UserID) (*ksapi.UserDevices, error)
	QueryKeys(ctx context.Context, req *ksapi.QueryKeysRequest) (*ksapi.QueryKeysResponse, error)
	ClaimKeys(ctx context.Context, req *ksapi.ClaimKeysRequest) (*ksapi.ClaimKeysResponse, error)
}
