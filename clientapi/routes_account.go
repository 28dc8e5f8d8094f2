package clientapi

// registerAccountRoutes: versions, well-known, register, login, logout,
// account, devices, profile, account data, capabilities.
func (c *ClientAPI) registerAccountRoutes() {}
