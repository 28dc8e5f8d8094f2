package matrixrules

import (
	"slices"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// CreatorLevel is the level of a privileged creator (room v12): above
// any level a power levels event can hold (integers there are at most
// 2^53-1), so "infinite" for every comparison.
const CreatorLevel int64 = 1 << 53

// NoPowerLevelsCreatorLevel is the create event sender's level while a
// room has no power levels event.
const NoPowerLevelsCreatorLevel int64 = 100

// DefaultNotificationLevel is the level an @room notification needs
// unless the power levels say otherwise.
const DefaultNotificationLevel int64 = 50

// Room is what the power rules read from a room's current state: its
// version and the create and power levels events (their sender and
// content; PowerLevels nil when the room has none).
type Room struct {
	Version       string
	CreateSender  string
	CreateContent []byte
	PowerLevels   []byte
}

// PowerLevels answers "what level has this user, what does this need" in
// one room, with the creators rule of the room's version applied.
type PowerLevels struct {
	gomatrixserverlib.PowerLevelContent
	hasEvent     bool
	createSender string
	creators     []string // privileged creators (v12+); nil otherwise
}

// NewPowerLevels parses the room's power levels (the spec's defaults when
// it has none). The content was accepted by the auth rules, so a parse
// error means corrupt state.
func NewPowerLevels(r Room) (*PowerLevels, error) {
	p := &PowerLevels{createSender: r.CreateSender, hasEvent: r.PowerLevels != nil}
	p.Defaults()
	if p.hasEvent {
		impl, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(r.Version))
		if err != nil { // a version only gomatrixserverlib's lenient v1 rules can read
			impl = gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV1)
		}
		if err := impl.ParsePowerLevels(r.PowerLevels, &p.PowerLevelContent); err != nil {
			return nil, err
		}
	}
	if FeaturesOf(r.Version).PrivilegedCreators {
		p.creators = Creators(r.CreateSender, r.CreateContent)
	}
	return p, nil
}

// Creators are the create event's sender and its additional_creators.
func Creators(createSender string, createContent []byte) []string {
	out := []string{createSender}
	for _, c := range gjson.GetBytes(createContent, "additional_creators").Array() {
		if c.Type == gjson.String && !slices.Contains(out, c.Str) {
			out = append(out, c.Str)
		}
	}
	return out
}

// IsPrivilegedCreator says whether userID has the infinite creator level.
func (p *PowerLevels) IsPrivilegedCreator(userID string) bool {
	return slices.Contains(p.creators, userID)
}

// UserLevel is userID's power level: infinite for privileged creators,
// 100 for the create event's sender while there is no power levels
// event, otherwise from users / users_default.
func (p *PowerLevels) UserLevel(userID string) int64 {
	switch {
	case p.IsPrivilegedCreator(userID):
		return CreatorLevel
	case !p.hasEvent && userID == p.createSender:
		return NoPowerLevelsCreatorLevel
	}
	return p.PowerLevelContent.UserLevel(spec.SenderID(userID))
}

// StateLevel is the level needed to send a state event of evType.
func (p *PowerLevels) StateLevel(evType string) int64 { return p.EventLevel(evType, true) }

// MessageLevel is the level needed to send a non-state event of evType.
func (p *PowerLevels) MessageLevel(evType string) int64 { return p.EventLevel(evType, false) }

// NotificationLevels is every notification key's required level ("room"
// included), the form push rule evaluation takes.
func (p *PowerLevels) NotificationLevels() map[string]int64 {
	out := map[string]int64{"room": DefaultNotificationLevel}
	for k, v := range p.Notifications {
		out[k] = v
	}
	return out
}

// VersionOfCreate is the room version a create event's content declares.
func VersionOfCreate(createContent []byte) string {
	if v := gjson.GetBytes(createContent, "room_version"); v.Type == gjson.String {
		return v.Str
	}
	return VersionV1
}
