package appservice

import (
	"context"

	"github.com/axon-hs/axon/appservice/api"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/setup"
)

// NetworkDirectory is where appservices publish rooms per network (the
// roomserver).
type NetworkDirectory interface {
	SetNetworkRoomVisibility(ctx context.Context, appserviceID, networkID string, roomID matrixid.RoomID, visibility string) error
}

// routes serve the Client-Server endpoints that reach appservices. They
// work over api.AppserviceAPI, so the process serving clients need not
// run the component.
type routes struct {
	as        api.AppserviceAPI
	directory NetworkDirectory
}

// RegisterRoutes adds the appservice Client-Server routes to base.Client.
func RegisterRoutes(base *setup.Base, as api.AppserviceAPI, directory NetworkDirectory) {
	r := &routes{as: as, directory: directory}
	c := base.Client
	c.HandleAuthed("POST /_matrix/client/v1/appservice/{appserviceId}/ping", r.ping)
	c.HandleClientAuthed("PUT /directory/list/appservice/{networkId}/{roomId}", r.publishInNetwork)
	c.HandleClientAuthed("GET /thirdparty/protocols", r.protocols)
	c.HandleClientAuthed("GET /thirdparty/protocol/{protocol}", r.protocol)
	c.HandleClientAuthed("GET /thirdparty/location/{protocol}", r.lookup("location"))
	c.HandleClientAuthed("GET /thirdparty/user/{protocol}", r.lookup("user"))
	c.HandleClientAuthed("GET /thirdparty/location", r.reverseLookup("location", "alias"))
	c.HandleClientAuthed("GET /thirdparty/user", r.reverseLookup("user", "userid"))
}
