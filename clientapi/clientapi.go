package clientapi

import (
	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/setup"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// ClientAPI serves the Client-Server API routes that are not owned by
// syncapi or the keyserver.
type ClientAPI struct {
	base  *setup.Base
	users uapi.UserAPI
	rooms rsapi.RoomserverAPI
	// fed acts on other servers (remote joins, invites); nil when
	// federation is disabled.
	fed fedapi.FederationAPI
	// appservices is shared by the account and room routes.
	appservices *appservices
}

// New registers the client routes on base.Client. as answers queries for
// unknown users and aliases in appservice namespaces.
func New(base *setup.Base, users uapi.UserAPI, rooms rsapi.RoomserverAPI, fed fedapi.FederationAPI, as AppserviceQuerier) *ClientAPI {
	c := &ClientAPI{base: base, users: users, rooms: rooms, fed: fed, appservices: &appservices{cfg: base.Cfg, q: as}}
	c.registerRoutes()
	return c
}
