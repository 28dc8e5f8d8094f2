package clientapi

// registerRoomRoutes: createRoom, membership, send/state/event, redaction,
// aliases, directory, upgrades, hierarchy.
func (c *ClientAPI) registerRoomRoutes() {}
