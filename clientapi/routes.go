package clientapi

import (
	"encoding/json"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
)

// registerRoutes is the clientapi's one route table.
//
// Account routes (handlers in account_*.go, shared state in accountRoutes):
// versions, well-known, capabilities, register, login, logout, refresh,
// account, third-party identifiers (account_3pid.go: none accepted),
// devices, profile, account data and the Synapse-compatible
// shared-secret registration.
//
// Room routes (handlers in room_*.go, membership_*.go and directory_*.go,
// methods of roomRoutes): createRoom, membership, send/state/event,
// redaction, aliases, directory, upgrades, hierarchy. (GET
// /rooms/{roomId}/event/{eventId} is syncapi's, beside /context.)
func (c *ClientAPI) registerRoutes() {
	a := newAccountRoutes(c.base, c.users)
	a.rooms = c.newAccountRooms()
	if c.fed != nil {
		a.remote = newRemoteProfileCache(c.fed)
	}
	a.appservices = c.appservices
	h := &roomRoutes{
		c:           c,
		rs:          c.rooms,
		server:      c.base.Cfg.ServerName,
		msgLimit:    httputil.NewRateLimiter(c.base.Cfg.RateLimits, c.base.Cfg.RateLimits.Messages),
		createLimit: httputil.NewRateLimiter(c.base.Cfg.RateLimits, c.base.Cfg.RateLimits.RoomCreation),
		overrides:   &overrideLimiters{cfg: c.base.Cfg.RateLimits},

		remoteAliases:     newTTLCache[*fedapi.RoomAlias](time.Minute, 10000),
		remoteDirectories: newTTLCache[json.RawMessage](30*time.Second, 1000),
		remoteHierarchies: newRemoteHierarchyCache(),
	}
	if rl := c.base.Cfg.RateLimits; rl.Enabled {
		h.remoteSummaryLimit = httputil.NewLimiter(0.5, 10, rl.ExemptIPs)
	}
	r := c.base.Client

	// Account
	r.Handle("GET /_matrix/client/versions", a.versions)
	r.Handle("GET /.well-known/matrix/client", a.wellKnownClient)
	r.Handle("GET /.well-known/matrix/server", a.wellKnownServer)
	r.Handle("GET /.well-known/matrix/support", a.wellKnownSupport)
	r.HandleClientAuthed("GET /voip/turnServer", a.turnServer)
	r.HandleClientAuthed("GET /capabilities", a.capabilities)

	r.HandleClient("POST /register", a.register)
	r.HandleClient("GET /register/available", a.registerAvailable)
	r.HandleClient("GET /register/m.login.registration_token/validity", a.registrationTokenValidity)
	r.Handle("GET /_matrix/client/v1/register/m.login.registration_token/validity", a.registrationTokenValidity)
	r.Handle("GET "+sharedSecretPath, a.sharedSecretNonce)
	r.Handle("POST "+sharedSecretPath, a.sharedSecretRegister)

	r.HandleClient("GET /login", a.loginFlows)
	r.HandleClient("POST /login", a.login)
	r.HandleClientAuthed("POST /logout", a.logout)
	r.HandleClientAuthed("POST /logout/all", a.logoutAll)
	r.HandleClient("POST /refresh", a.refresh)
	if c.base.Cfg.Registration.GetLoginToken {
		r.HandleAuthed("POST /_matrix/client/v1/login/get_token", a.getLoginToken)
	}

	r.HandleClientAuthed("GET /account/whoami", a.whoami)
	r.HandleClientAuthed("POST /account/password", a.changePassword)
	r.HandleClientAuthed("POST /account/deactivate", a.deactivate)
	r.HandleClientAuthed("GET /account/3pid", a.listThreepids)
	r.HandleClientAuthed("POST /account/3pid/add", a.addThreepid)
	r.HandleClientAuthed("POST /account/3pid/bind", a.addThreepid)
	r.HandleClientAuthed("POST /account/3pid/delete", a.removeThreepid)
	r.HandleClientAuthed("POST /account/3pid/unbind", a.removeThreepid)
	for _, medium := range []string{"email", "msisdn"} {
		r.HandleClient("POST /register/"+medium+"/requestToken", a.threepidRequestToken)
		r.HandleClient("POST /account/password/"+medium+"/requestToken", a.threepidRequestToken)
		r.HandleClient("POST /account/3pid/"+medium+"/requestToken", a.threepidRequestToken)
	}

	r.HandleClientAuthed("GET /devices", a.listDevices)
	r.HandleClientAuthed("GET /devices/{deviceId}", a.getDevice)
	r.HandleClientAuthed("PUT /devices/{deviceId}", a.updateDevice)
	r.HandleClientAuthed("DELETE /devices/{deviceId}", a.deleteDevice)
	r.HandleClientAuthed("POST /delete_devices", a.deleteDevices)

	r.HandleClient("GET /profile/{userId}", a.getProfile)
	r.HandleClient("GET /profile/{userId}/{keyName}", a.getProfileField)
	r.HandleClientAuthed("PUT /profile/{userId}/{keyName}", a.setProfileField)
	r.HandleClientAuthed("DELETE /profile/{userId}/{keyName}", a.deleteProfileField)

	r.HandleClientAuthed("GET /user/{userId}/account_data/{type}", a.getAccountData)
	r.HandleClientAuthed("PUT /user/{userId}/account_data/{type}", a.setAccountData)
	r.HandleClientAuthed("GET /user/{userId}/rooms/{roomId}/account_data/{type}", a.getAccountData)
	r.HandleClientAuthed("PUT /user/{userId}/rooms/{roomId}/account_data/{type}", a.setAccountData)
	r.HandleClientAuthed("GET /user/{userId}/rooms/{roomId}/tags", a.getTags)
	r.HandleClientAuthed("PUT /user/{userId}/rooms/{roomId}/tags/{tag}", a.putTag)
	r.HandleClientAuthed("DELETE /user/{userId}/rooms/{roomId}/tags/{tag}", a.deleteTag)

	// Rooms
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
	r.HandleClientAuthed("GET /rooms/{roomId}/joined_members", h.joinedMembers)

	r.HandleClientAuthed("PUT /rooms/{roomId}/send/{eventType}/{txnId}", h.sendMessage)
	r.HandleClientAuthed("PUT /rooms/{roomId}/state/{eventType}", h.putState)
	r.HandleClientAuthed("PUT /rooms/{roomId}/state/{eventType}/{stateKey...}", h.putState)
	r.HandleClientAuthed("PUT /rooms/{roomId}/redact/{eventId}/{txnId}", h.redact)
	r.HandleClientAuthed("GET /rooms/{roomId}/state", h.getState)
	r.HandleClientAuthed("GET /rooms/{roomId}/state/{eventType}", h.getStateEvent)
	r.HandleClientAuthed("GET /rooms/{roomId}/state/{eventType}/{stateKey...}", h.getStateEvent)
	r.HandleClientAuthed("GET /rooms/{roomId}/timestamp_to_event", h.timestampToEvent)
	r.HandleAuthed("GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event", h.timestampToEvent)
	r.HandleClientAuthed("POST /rooms/{roomId}/upgrade", h.upgrade)
	r.HandleAuthed("GET /_matrix/client/v1/rooms/{roomId}/hierarchy", h.hierarchy)
	r.Handle("GET /_matrix/client/v1/room_summary/{roomIdOrAlias}", h.roomSummary)
	r.Handle("GET /_matrix/client/unstable/im.nheko.summary/rooms/{roomIdOrAlias}/summary", h.roomSummary)
	r.Handle("GET /_matrix/client/unstable/im.nheko.summary/summary/{roomIdOrAlias}", h.roomSummary)
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
