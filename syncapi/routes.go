package syncapi

import "github.com/axon-hs/axon/internal/httputil"

// registerRoutes adds syncapi's Client-Server endpoints to base.Client.
func (s *SyncAPI) registerRoutes() {
	r := s.base.Client
	r.HandleClientAuthed("GET /sync", s.handleSync)
	r.HandleClientAuthed("POST /user/{userId}/filter", s.handlePostFilter)
	r.HandleClientAuthed("GET /user/{userId}/filter/{filterId}", s.handleGetFilter)
	r.HandleClientAuthed("GET /rooms/{roomId}/messages", s.handleMessages)
	r.HandleAuthed("GET /_synapse/admin/v1/rooms/{roomId}/messages", s.handleAdminMessages)
	r.HandleClientAuthed("GET /rooms/{roomId}/context/{eventId}", s.handleContext)
	r.HandleClientAuthed("GET /rooms/{roomId}/event/{eventId}", s.handleEvent)
	r.HandleClientAuthed("GET /rooms/{roomId}/initialSync", s.handleRoomInitialSync)
	r.HandleClientAuthed("GET /rooms/{roomId}/members", s.handleMembers) // "at" takes /sync tokens
	r.HandleClientAuthed("PUT /rooms/{roomId}/typing/{userId}", s.handleTyping)
	r.HandleClientAuthed("POST /rooms/{roomId}/receipt/{receiptType}/{eventId}", s.handleReceipt)
	r.HandleClientAuthed("POST /rooms/{roomId}/read_markers", s.handleReadMarkers)
	r.HandleClientAuthed("GET /presence/{userId}/status", s.handleGetPresence)
	r.HandleClientAuthed("PUT /presence/{userId}/status", s.handleSetPresence)
	r.HandleClientAuthed("PUT /sendToDevice/{eventType}/{txnId}", s.handleSendToDevice)
	r.HandleClientAuthed("GET /notifications", s.handleNotifications)
	r.HandleClientAuthed("POST /search", s.handleSearch)
	r.HandleClientAuthed("POST /user_directory/search", s.handleUserDirectorySearch)
	if s.keys != nil { // takes /sync tokens, so it is served here
		r.HandleClientAuthed("GET /keys/changes", s.handleKeyChanges)
	}

	r.HandleClientAuthed("GET /pushrules/{$}", s.handleGetAllPushRules)
	r.HandleClientAuthed("GET /pushrules/{scope}/{$}", s.handleGetAllPushRules)
	r.HandleClientAuthed("GET /pushrules/{scope}/{kind}/{ruleId}", s.handleGetPushRule)
	r.HandleClientAuthed("GET /pushrules/{scope}/{kind}/{ruleId}/{attr}", s.handleGetPushRule)
	r.HandleClientAuthed("PUT /pushrules/{scope}/{kind}/{ruleId}", s.handlePutPushRule)
	r.HandleClientAuthed("PUT /pushrules/{scope}/{kind}/{ruleId}/{attr}", s.handlePutPushRuleAttr)
	r.HandleClientAuthed("DELETE /pushrules/{scope}/{kind}/{ruleId}", s.handleDeletePushRule)

	// Relations and threads are v1 endpoints; v3 is served too for older clients.
	for _, prefix := range []string{"/_matrix/client/v1", "/_matrix/client/v3"} {
		r.HandleAuthed("GET "+prefix+"/rooms/{roomId}/relations/{eventId}", s.handleRelations)
		r.HandleAuthed("GET "+prefix+"/rooms/{roomId}/relations/{eventId}/{relType}", s.handleRelations)
		r.HandleAuthed("GET "+prefix+"/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}", s.handleRelations)
		r.HandleAuthed("GET "+prefix+"/rooms/{roomId}/threads", s.handleThreads)
	}
	r.HandleAuthed("POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync", s.handleSlidingSync)
	// MSC2666, as clients call it (unstable prefix), and its stable form.
	r.HandleAuthed("GET /_matrix/client/unstable/uk.half-shot.msc2666/user/mutual_rooms", s.handleMutualRooms)
	r.HandleAuthed("GET /_matrix/client/v1/user/mutual_rooms", s.handleMutualRooms)
}

var _ httputil.AuthedHandler = (*SyncAPI)(nil).handleSync
