package clientapi

// registerAccountRoutes: versions, well-known, capabilities, register,
// login, logout, refresh, account, devices, profile, account data and the
// Synapse-compatible shared-secret registration. Handlers live in
// account_*.go; their shared state (UIA sessions, nonces, rate limits) in
// accountRoutes.
func (c *ClientAPI) registerAccountRoutes() {
	a := newAccountRoutes(c.base, c.users)
	a.appservices = c.appservices
	a.rooms = c.newAccountRooms()
	r := c.base.Client

	r.Handle("GET /_matrix/client/versions", a.versions)
	r.Handle("GET /.well-known/matrix/client", a.wellKnownClient)
	r.Handle("GET /.well-known/matrix/server", a.wellKnownServer)
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

	r.HandleClientAuthed("GET /account/whoami", a.whoami)
	r.HandleClientAuthed("POST /account/password", a.changePassword)
	r.HandleClientAuthed("POST /account/deactivate", a.deactivate)

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
}
