// Package api is the userapi's public surface: the types and the Go
// interface other components call. It holds no logic.
package api

import "github.com/axon-hs/axon/internal/httputil"

// Device is an authenticated session: who is calling, from which device.
// It is declared in internal/httputil, which authenticates requests
// without depending on this component.
type Device = httputil.Device
