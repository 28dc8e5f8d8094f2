package adminapi

import (
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Deps are the components the admin API acts through.
type Deps struct {
	Users uapi.UserAPI
	Rooms rsapi.RoomserverAPI
	// Version is the server version reported by server_version.
	Version string
}
