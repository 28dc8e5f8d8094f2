package federationapi

import "github.com/matrix-org/gomatrixserverlib/spec"

// registerRoutes is the federationapi's one route table. Handlers live in
// inbound_*.go (and openid.go); what this server asks of others is in
// perform_*.go, the outgoing queues in sender/.
func (f *FederationAPI) registerRoutes() {
	r := f.base.Federation

	// Key endpoints need no request signature: they are how signatures
	// get checked in the first place.
	r.Handle("GET /_matrix/key/v2/server", f.serverKeys)
	r.Handle("GET /_matrix/key/v2/server/{keyID}", f.serverKeys) // deprecated form
	r.Handle("POST /_matrix/key/v2/query", f.queryKeys)
	r.Handle("GET /_matrix/key/v2/query/{serverName}", f.queryKeysForServer)
	r.Handle("GET /_matrix/federation/v1/version", f.version)
	// /openid/userinfo is not X-Matrix signed (the caller may be any
	// service holding a token), per the spec.
	r.Handle("GET /_matrix/federation/v1/openid/userinfo", f.openIDUserInfo)

	// Everything else is X-Matrix signed (handleAuthed).
	f.handleAuthedBody("PUT /_matrix/federation/v1/send/{txnID}", f.sendTransaction(&txnProcessor{f: f})) // text rule per PDU/EDU

	// Joining, leaving and knocking from another server: make_X hands out
	// a template on our room head, send_X takes the signed event back,
	// checks it, inputs it and (for joins) returns the room state.
	f.handleAuthed("GET /_matrix/federation/v1/make_join/{roomID}/{userID}", f.makeMembership(spec.Join, true))
	f.handleAuthed("GET /_matrix/federation/v1/make_leave/{roomID}/{userID}", f.makeMembership(spec.Leave, false))
	f.handleAuthed("GET /_matrix/federation/v1/make_knock/{roomID}/{userID}", f.makeMembership(spec.Knock, true))
	f.handleAuthed("PUT /_matrix/federation/v2/send_join/{roomID}/{eventID}", f.sendMembership(spec.Join))
	f.handleAuthed("PUT /_matrix/federation/v2/send_leave/{roomID}/{eventID}", f.sendMembership(spec.Leave))
	f.handleAuthed("PUT /_matrix/federation/v1/send_knock/{roomID}/{eventID}", f.sendMembership(spec.Knock))
	// The deprecated v1 forms, still called by older servers: same
	// checks, the answer wrapped as [200, body].
	f.handleAuthed("PUT /_matrix/federation/v1/send_join/{roomID}/{eventID}", v1Response(f.sendMembership(spec.Join)))
	f.handleAuthed("PUT /_matrix/federation/v1/send_leave/{roomID}/{eventID}", v1Response(f.sendMembership(spec.Leave)))
	f.handleAuthed("PUT /_matrix/federation/v2/invite/{roomID}/{eventID}", f.inviteV2)

	// Reading a room's events and state. Every route requires the origin
	// to be in the room and allowed by its server ACL.
	f.handleAuthed("GET /_matrix/federation/v1/event/{eventID}", f.getEvent)
	f.handleAuthed("GET /_matrix/federation/v1/state/{roomID}", f.getState(false))
	f.handleAuthed("GET /_matrix/federation/v1/state_ids/{roomID}", f.getState(true))
	f.handleAuthed("GET /_matrix/federation/v1/event_auth/{roomID}/{eventID}", f.getEventAuth)
	f.handleAuthed("GET /_matrix/federation/v1/backfill/{roomID}", f.backfill)
	f.handleAuthed("POST /_matrix/federation/v1/get_missing_events/{roomID}", f.getMissingEvents)
	f.handleAuthed("GET /_matrix/federation/v1/timestamp_to_event/{roomID}", f.timestampToEvent)

	// Queries other servers make about our aliases, users and directory.
	f.handleAuthed("GET /_matrix/federation/v1/query/directory", f.queryDirectory)
	f.handleAuthed("GET /_matrix/federation/v1/query/profile", f.queryProfile)
	f.handleAuthed("GET /_matrix/federation/v1/publicRooms", f.publicRooms)
	f.handleAuthed("POST /_matrix/federation/v1/publicRooms", f.publicRooms)
	f.handleAuthed("GET /_matrix/federation/v1/hierarchy/{roomID}", f.hierarchy)

	// E2EE routes other servers call about our users: their device list
	// and keys, read from the keyserver. Only local users are answered;
	// others are silently left out (a server must not make us federate
	// on its behalf).
	f.handleAuthed("GET /_matrix/federation/v1/user/devices/{userID}", f.userDevices)
	f.handleAuthed("POST /_matrix/federation/v1/user/keys/query", f.userKeysQuery)
	f.handleAuthed("POST /_matrix/federation/v1/user/keys/claim", f.userKeysClaim)
}
