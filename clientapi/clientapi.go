package clientapi

import (
	"github.com/axon-hs/axon/internal/setup"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// ClientAPI serves the Client-Server API routes that are not owned by
// syncapi (or, later, mediaapi/keyserver).
type ClientAPI struct {
	base  *setup.Base
	users uapi.UserAPI
	rooms rsapi.RoomserverAPI
}

// New registers the client routes on base.Client.
func New(base *setup.Base, users uapi.UserAPI, rooms rsapi.RoomserverAPI) *ClientAPI {
	c := &ClientAPI{base: base, users: users, rooms: rooms}
	c.registerAccountRoutes()
	c.registerRoomRoutes()
	return c
}
