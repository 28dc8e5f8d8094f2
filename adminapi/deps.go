package adminapi

import (
	fedapi "github.com/axon-hs/axon/federationapi/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Deps are the components the admin API acts through.
type Deps struct {
	Users uapi.UserAPI
	Rooms rsapi.RoomserverAPI
	// Federation is nil when federation is disabled.
	Federation fedapi.FederationAPI
	// Version is the server version reported by server_version.
	Version string
}
