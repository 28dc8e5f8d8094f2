package adminapi

import (
	"encoding/json"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// stateEvent is one state event (state key "") of a room the admin API
// creates.
type stateEvent struct {
	evType  string
	content any
}

// newRoomEvents are the events creating a room the admin API makes
// (server notices, the room members of a deleted room move to): create,
// the creator's join with member content, the power levels pl with the
// creator at 100 (unless the version makes creators all-powerful), then
// rest in order.
func newRoomEvents(creator, version string, member, pl map[string]any, rest ...stateEvent) []rsapi.InputRoomEvent {
	users := map[string]any{}
	if !matrixrules.FeaturesOf(version).PrivilegedCreators {
		users[creator] = 100
	}
	pl["users"] = users
	state := func(evType, stateKey string, content any) rsapi.InputRoomEvent {
		c, _ := json.Marshal(content)
		return rsapi.InputRoomEvent{Kind: rsapi.KindNew, Local: &rsapi.LocalEvent{Sender: matrixid.UserID(creator),
			Type: matrixid.EventType(evType), StateKey: &stateKey, Content: c}}
	}
	events := []rsapi.InputRoomEvent{
		state(spec.MRoomCreate, "", map[string]any{"room_version": version}),
		state(spec.MRoomMember, creator, member),
		state(spec.MRoomPowerLevels, "", pl),
	}
	events[0].Local.RoomVersion = version
	for _, s := range rest {
		events = append(events, state(s.evType, "", s.content))
	}
	return events
}
