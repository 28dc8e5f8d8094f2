package matrixrules

import "github.com/matrix-org/gomatrixserverlib/spec"

// RoomPreview is what decides whether a room may be shown to someone
// (a user, or another server for its users) in a space hierarchy or a
// room summary.
type RoomPreview struct {
	JoinRule      string
	WorldReadable bool
	// RoomVersion decides whether knock and restricted rules exist; ""
	// (a remote summary that did not say) assumes they do.
	RoomVersion string
	// AllowedRoomIDs are the rooms of a restricted rule's
	// m.room_membership conditions.
	AllowedRoomIDs []string
}

// Previewable: the room may be shown to someone who is not in it and not
// invited (the caller checks membership first). World-readable rooms,
// rooms anyone may join or knock on, and restricted rooms when inAllowed
// (the user is joined to, or the server is in, that room) holds for one
// of the allowed rooms. inAllowed may be nil (no allowed room counts).
func (p RoomPreview) Previewable(inAllowed func(roomID string) bool) bool {
	if p.WorldReadable || p.JoinRule == spec.Public {
		return true
	}
	f := FeaturesOf(p.RoomVersion)
	if p.RoomVersion == "" {
		f = Features{Knock: true, Restricted: true, KnockRestricted: true}
	}
	switch p.JoinRule {
	case spec.Knock:
		return f.Knock
	case spec.KnockRestricted:
		return f.KnockRestricted
	case spec.Restricted:
		if !f.Restricted || inAllowed == nil {
			return false
		}
		for _, id := range p.AllowedRoomIDs {
			if inAllowed(id) {
				return true
			}
		}
	}
	return false
}
