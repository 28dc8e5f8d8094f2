package clientapi

import (
	"github.com/axon-hs/axon/internal/httputil"
)

// registerRoomRoutes: createRoom, membership, send/state/event, redaction,
// aliases, directory, upgrades, hierarchy. Handlers live in room_*.go,
// membership_*.go and directory_*.go as methods of roomRoutes.
func (c *ClientAPI) registerRoomRoutes() {
	h := &roomRoutes{
		c:           c,
		rs:          c.rooms,
		server:      c.base.Cfg.ServerName,
		msgLimit:    httputil.NewRateLimiter(c.base.Cfg.RateLimits, c.base.Cfg.RateLimits.Messages),
		createLimit: httputil.NewRateLimiter(c.base.Cfg.RateLimits, c.base.Cfg.RateLimits.RoomCreation),
	}
	r := c.base.Client

	r.HandleClientAuthed("POST /createRoom", h.createRoom)

	r.HandleClientAuthed("POST /join/{roomIdOrAlias}", h.joinRoomIDOrAlias)
	r.HandleClientAuthed("POST /rooms/{roomId}/join", h.joinRoom)
	r.HandleClientAuthed("POST /knock/{roomIdOrAlias}", h.knockAnywhere)
	r.HandleClientAuthed("POST /rooms/{roomId}/invite", h.invite)
	r.HandleClientAuthed("POST /rooms/{roomId}/leave", h.leave)
	r.HandleClientAuthed("POST /rooms/{roomId}/kick", h.kick)
	r.HandleClientAuthed("POST /rooms/{roomId}/ban", h.ban)
	r.HandleClientAuthed("POST /rooms/{roomId}/unban", h.unban)
	r.HandleClientAuthed("POST /rooms/{roomId}/forget", h.forget)
	r.HandleClientAuthed("GET /joined_rooms", h.joinedRooms)
	r.HandleClientAuthed("GET /rooms/{roomId}/members", h.members)
	r.HandleClientAuthed("GET /rooms/{roomId}/joined_members", h.joinedMembers)

	r.HandleClientAuthed("PUT /rooms/{roomId}/send/{eventType}/{txnId}", h.sendMessage)
	r.HandleClientAuthed("PUT /rooms/{roomId}/state/{eventType}", h.putState)
	r.HandleClientAuthed("PUT /rooms/{roomId}/state/{eventType}/{stateKey...}", h.putState)
	r.HandleClientAuthed("PUT /rooms/{roomId}/redact/{eventId}/{txnId}", h.redact)
	r.HandleClientAuthed("GET /rooms/{roomId}/state", h.getState)
	r.HandleClientAuthed("GET /rooms/{roomId}/state/{eventType}", h.getStateEvent)
	r.HandleClientAuthed("GET /rooms/{roomId}/state/{eventType}/{stateKey...}", h.getStateEvent)
	r.HandleClientAuthed("GET /rooms/{roomId}/event/{eventId}", h.getEvent)
	r.HandleClientAuthed("GET /rooms/{roomId}/timestamp_to_event", h.timestampToEvent)
	r.HandleAuthed("GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event", h.timestampToEvent)
	r.HandleClientAuthed("POST /rooms/{roomId}/upgrade", h.upgrade)
	r.HandleAuthed("GET /_matrix/client/v1/rooms/{roomId}/hierarchy", h.hierarchy)
	r.HandleClientAuthed("POST /user/{userId}/openid/request_token", h.openIDToken)

	r.HandleClientAuthed("PUT /directory/room/{roomAlias}", h.putAlias)
	r.HandleClient("GET /directory/room/{roomAlias}", h.getAlias)
	r.HandleClientAuthed("DELETE /directory/room/{roomAlias}", h.deleteAlias)
	r.HandleClientAuthed("GET /rooms/{roomId}/aliases", h.roomAliases)
	r.HandleClient("GET /directory/list/room/{roomId}", h.getVisibility)
	r.HandleClientAuthed("PUT /directory/list/room/{roomId}", h.putVisibility)
	r.HandleClient("GET /publicRooms", h.publicRoomsGet)
	r.HandleClientAuthed("POST /publicRooms", h.publicRoomsPost)
}
