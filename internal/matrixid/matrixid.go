// Package matrixid names the identifiers that cross component APIs, so
// the compiler tells a room ID from a user ID where a call passes them.
// They are plain named strings: JSON (and so every RPC and stream
// message) encodes them exactly as before, and untyped constants such as
// spec.MRoomMember convert by themselves.
package matrixid

// RoomID is a room ID: "!opaque:server", or "!hash" from room v12.
type RoomID string

// UserID is a user ID: "@localpart:server".
type UserID string

// EventID is an event ID: "$..." (a hash from room v3).
type EventID string

// EventType is an event type such as "m.room.member".
type EventType string

// Strings converts typed identifiers back to strings (storage, JSON
// built by hand, gomatrixserverlib calls).
func Strings[T ~string](ids []T) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// From converts strings to typed identifiers.
func From[T ~string](ss []string) []T {
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = T(s)
	}
	return out
}
