package keyserver

import (
	"context"

	"github.com/axon-hs/axon/internal/matrixid"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Users is the part of the userapi the keyserver calls: devices (to
// know which exist) and passwords (UIA of the cross-signing upload).
type Users interface {
	QueryDevice(ctx context.Context, userID matrixid.UserID, deviceID string) (*uapi.DeviceInfo, error)
	QueryDevices(ctx context.Context, userID matrixid.UserID) ([]uapi.DeviceInfo, error)
	CheckPassword(ctx context.Context, userID matrixid.UserID, password string) error
}
