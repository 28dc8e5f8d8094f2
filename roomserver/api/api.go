// Package api is the roomserver's public surface: the Go interface other
// components call and the types on its output stream. It holds no logic.
package api

// RoomserverAPI is what other components may ask of the roomserver.
type RoomserverAPI interface {
}
