package matrixrules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/matrix-org/gomatrixserverlib"
)

// SupportedVersions are the room versions this server creates and joins,
// oldest first. gomatrixserverlib knows more (unstable MSC versions and
// state-DAG rooms) that this server does not implement.
var SupportedVersions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

// DefaultVersion is the version of new rooms unless configured otherwise.
const DefaultVersion = "10"

// VersionV1 is assumed for a create event without room_version.
const VersionV1 = "1"

// IsSupported says whether v is one of SupportedVersions.
func IsSupported(v string) bool { return slices.Contains(SupportedVersions, v) }

// SupportedList is SupportedVersions as "1, 2, ... 12" for messages.
func SupportedList() string { return strings.Join(SupportedVersions, ", ") }

// Version returns gomatrixserverlib's implementation of a supported
// version, or an error naming the version.
func Version(v string) (gomatrixserverlib.IRoomVersion, error) {
	if !IsSupported(v) {
		return nil, fmt.Errorf("room version %q is not supported", v)
	}
	return gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(v))
}

// VersionStability is what GET /capabilities says of each version.
func VersionStability() map[string]string {
	out := make(map[string]string, len(SupportedVersions))
	for _, v := range SupportedVersions {
		stability := "unstable"
		if impl, err := Version(v); err == nil && impl.Stable() {
			stability = "stable"
		}
		out[v] = stability
	}
	return out
}

// Features are what a room version allows beyond the basics.
type Features struct {
	// PrivilegedCreators: the create event's sender and
	// additional_creators have infinite power and are not listed in the
	// power levels (v12, MSC4289).
	PrivilegedCreators bool
	// CreatorInContent: the create event carries content.creator (v1-10).
	CreatorInContent bool
	// ServerNamedRoomIDs: the room ID is "!opaque:server"; from v12 it is
	// the create event's hash.
	ServerNamedRoomIDs bool
	// Knock: the "knock" join rule (v7+).
	Knock bool
	// Restricted: the "restricted" join rule (v8+).
	Restricted bool
	// KnockRestricted: the "knock_restricted" join rule (v10+).
	KnockRestricted bool
	// RedactsInContent: a redaction's target is content.redacts (v11+),
	// not only the top-level redacts key.
	RedactsInContent bool
}

// FeaturesOf returns the features of v; an unsupported version has none.
func FeaturesOf(v string) Features {
	impl, err := Version(v)
	if err != nil {
		return Features{}
	}
	n := slices.Index(SupportedVersions, v) + 1 // supported versions are "1".."N" in order
	return Features{
		PrivilegedCreators: impl.PrivilegedCreators(),
		CreatorInContent:   impl.CreatorInCreateEvent(),
		ServerNamedRoomIDs: !impl.DomainlessRoomIDs(),
		Knock:              impl.CheckKnockingAllowed(string(impl.Version()), "", "", "knock", "") == nil,
		Restricted:         impl.CheckRestrictedJoinsAllowed() == nil,
		KnockRestricted:    n >= 10,
		RedactsInContent:   n >= 11,
	}
}
