package adminapi

import "strings"

// registerRoutes is the admin API's one route table (Synapse paths).
func (a *AdminAPI) registerRoutes() {
	c := a.base.Client
	route := func(pattern string, h adminHandler) {
		method, path, _ := strings.Cut(pattern, " ")
		c.HandleAuthed(method+" /_synapse/admin"+path, requireAdmin(h))
	}
	route("GET /v1/server_version", a.serverVersion)

	// Users.
	route("GET /v2/users", a.listUsers)
	route("GET /v2/users/{userId}", a.getUser)
	route("PUT /v2/users/{userId}", a.putUser)
	route("POST /v1/deactivate/{userId}", a.deactivateUser)
	route("POST /v1/reset_password/{userId}", a.resetPassword)
	route("GET /v1/whois/{userId}", a.whois)
	// The Client-Server API's own whois (Server Administration module).
	c.HandleClientAuthed("GET /admin/whois/{userId}", requireSelfOrAdmin(a.whois))
	route("GET /v1/users/{userId}/admin", a.getAdmin)
	route("PUT /v1/users/{userId}/admin", a.putAdmin)
	route("POST /v1/users/{userId}/login", a.loginAsUser)
	route("GET /v1/users/{userId}/joined_rooms", a.joinedRooms)
	route("GET /v2/users/{userId}/devices", a.listDevices)
	route("POST /v2/users/{userId}/delete_devices", a.deleteDevices)
	route("GET /v2/users/{userId}/devices/{deviceId}", a.getDevice)
	route("PUT /v2/users/{userId}/devices/{deviceId}", a.putDevice)
	route("DELETE /v2/users/{userId}/devices/{deviceId}", a.deleteDevice)
	route("POST /v1/users/{userId}/shadow_ban", a.setShadowBan(true))
	route("DELETE /v1/users/{userId}/shadow_ban", a.setShadowBan(false))
	route("GET /v1/users/{userId}/override_ratelimit", a.getRateLimit)
	route("POST /v1/users/{userId}/override_ratelimit", a.setRateLimit)
	route("DELETE /v1/users/{userId}/override_ratelimit", a.deleteRateLimit)

	// Rooms.
	route("GET /v1/rooms", a.listRooms)
	route("GET /v1/rooms/{roomId}", a.getRoom)
	route("GET /v1/rooms/{roomId}/members", a.roomMembers)
	route("GET /v1/rooms/{roomId}/state", a.roomState)
	route("POST /v1/join/{roomIdOrAlias}", a.forceJoin)
	route("POST /v1/rooms/{roomIdOrAlias}/make_room_admin", a.makeRoomAdmin)
	route("PUT /v1/rooms/{roomId}/block", a.putRoomBlock)
	route("GET /v1/rooms/{roomId}/block", a.getRoomBlock)
	route("DELETE /v1/rooms/{roomId}", a.deleteRoomV1)
	route("DELETE /v2/rooms/{roomId}", a.deleteRoom)
	// /v2/rooms/{roomId}/delete_status and /v2/rooms/delete_status/{deleteId}
	// overlap as patterns; one route tells them apart (room IDs start with !).
	route("GET /v2/rooms/{first}/{second}", a.deleteStatusRoutes)

	// Event reports.
	if a.reports != nil {
		route("GET /v1/event_reports", a.listEventReports)
		route("GET /v1/event_reports/{reportId}", a.getEventReport)
		route("DELETE /v1/event_reports/{reportId}", a.deleteEventReport)
	}

	// Federation.
	route("GET /v1/federation/destinations", a.listDestinations)
	route("GET /v1/federation/destinations/{destination}", a.getDestination)
	route("POST /v1/federation/destinations/{destination}/reset_connection", a.resetDestination)

	// Media (media_*.go).
	a.registerMediaRoutes(route)

	// Server notices.
	route("POST /v1/send_server_notice", a.sendServerNotice)
	route("PUT /v1/send_server_notice/{txnId}", a.sendServerNoticeTxn)

	// Registration tokens.
	route("GET /v1/registration_tokens", a.listTokens)
	route("POST /v1/registration_tokens/new", a.createToken)
	route("GET /v1/registration_tokens/{token}", a.getToken)
	route("PUT /v1/registration_tokens/{token}", a.updateToken)
	route("DELETE /v1/registration_tokens/{token}", a.deleteToken)
}
