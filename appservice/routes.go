package appservice

import (
	"github.com/axon-hs/axon/appservice/api"
	"github.com/axon-hs/axon/internal/setup"
)

// routes serve the Client-Server endpoints that reach appservices. They
// work over api.AppserviceAPI, so the process serving clients need not
// run the component.
type routes struct {
	as api.AppserviceAPI
}

// RegisterRoutes adds the appservice Client-Server routes to base.Client.
func RegisterRoutes(base *setup.Base, as api.AppserviceAPI) {
	r := &routes{as: as}
	c := base.Client
	c.HandleAuthed("POST /_matrix/client/v1/appservice/{appserviceId}/ping", r.ping)
	c.HandleClientAuthed("GET /thirdparty/protocols", r.protocols)
	c.HandleClientAuthed("GET /thirdparty/protocol/{protocol}", r.protocol)
	c.HandleClientAuthed("GET /thirdparty/location/{protocol}", r.lookup("location"))
	c.HandleClientAuthed("GET /thirdparty/user/{protocol}", r.lookup("user"))
	c.HandleClientAuthed("GET /thirdparty/location", r.reverseLookup("location", "alias"))
	c.HandleClientAuthed("GET /thirdparty/user", r.reverseLookup("user", "userid"))
}
