package syncapi

import "encoding/json"

// The /sync response shapes (spec GET /sync). Events are pre-encoded
// json.RawMessage so encoding a response copies bytes, not trees.

type eventList struct {
	Events []json.RawMessage `json:"events"`
}

type timeline struct {
	Events    []json.RawMessage `json:"events"`
	Limited   bool              `json:"limited"`
	PrevBatch string            `json:"prev_batch,omitempty"`
}

type roomSummary struct {
	Heroes      []string `json:"m.heroes,omitempty"`
	JoinedCount *int     `json:"m.joined_member_count,omitempty"`
	InvitedCnt  *int     `json:"m.invited_member_count,omitempty"`
}

type unreadCounts struct {
	Notification int `json:"notification_count"`
	Highlight    int `json:"highlight_count"`
}

// stateAfter is a room's state_after (Matrix 1.16, MSC4222), under the
// name the client asked for; state is then omitted.
type stateAfter struct {
	Stable   *eventList `json:"state_after,omitempty"`
	Unstable *eventList `json:"org.matrix.msc4222.state_after,omitempty"`
}

// stateAfterParam and stateAfterUnstable name the /sync query parameter
// of each form.
const (
	stateAfterParam    = "use_state_after"
	stateAfterUnstable = "org.matrix.msc4222.use_state_after"
)

// set fills the field that param (one of the two above) asks for.
func (a *stateAfter) set(param string, evs []json.RawMessage) {
	if evs == nil {
		evs = []json.RawMessage{}
	}
	if param == stateAfterUnstable {
		a.Unstable = &eventList{Events: evs}
	} else {
		a.Stable = &eventList{Events: evs}
	}
}

type joinedRoom struct {
	Summary *roomSummary `json:"summary,omitempty"`
	State   *eventList   `json:"state,omitempty"`
	stateAfter
	Timeline                  timeline                `json:"timeline"`
	Ephemeral                 eventList               `json:"ephemeral"`
	AccountData               eventList               `json:"account_data"`
	UnreadNotifications       unreadCounts            `json:"unread_notifications"`
	UnreadThreadNotifications map[string]unreadCounts `json:"unread_thread_notifications,omitempty"`
}

type invitedRoom struct {
	InviteState eventList `json:"invite_state"`
}

type knockedRoom struct {
	KnockState eventList `json:"knock_state"`
}

type leftRoom struct {
	State *eventList `json:"state,omitempty"`
	stateAfter
	Timeline    timeline  `json:"timeline"`
	AccountData eventList `json:"account_data"`
}

type syncRooms struct {
	Join   map[string]*joinedRoom  `json:"join"`
	Invite map[string]*invitedRoom `json:"invite"`
	Leave  map[string]*leftRoom    `json:"leave"`
	Knock  map[string]*knockedRoom `json:"knock"`
}

type deviceLists struct {
	Changed []string `json:"changed"`
	Left    []string `json:"left"`
}

type syncResponse struct {
	NextBatch                  string         `json:"next_batch"`
	Rooms                      syncRooms      `json:"rooms"`
	Presence                   eventList      `json:"presence"`
	AccountData                eventList      `json:"account_data"`
	ToDevice                   eventList      `json:"to_device"`
	DeviceLists                deviceLists    `json:"device_lists"`
	DeviceOneTimeKeysCount     map[string]int `json:"device_one_time_keys_count"`
	DeviceUnusedFallbackKeyTyp []string       `json:"device_unused_fallback_key_types"`
}

func newSyncResponse() *syncResponse {
	return &syncResponse{
		Rooms: syncRooms{
			Join: map[string]*joinedRoom{}, Invite: map[string]*invitedRoom{},
			Leave: map[string]*leftRoom{}, Knock: map[string]*knockedRoom{},
		},
		Presence:                   eventList{Events: []json.RawMessage{}},
		AccountData:                eventList{Events: []json.RawMessage{}},
		ToDevice:                   eventList{Events: []json.RawMessage{}},
		DeviceLists:                deviceLists{Changed: []string{}, Left: []string{}},
		DeviceOneTimeKeysCount:     map[string]int{},
		DeviceUnusedFallbackKeyTyp: []string{},
	}
}

// newJoinedRoom is an empty joined room section; with stateAfterParam
// set (see syncRequest) it has an empty state_after instead of state.
func newJoinedRoom(stateAfterParam string) *joinedRoom {
	jr := &joinedRoom{
		State:       &eventList{Events: []json.RawMessage{}},
		Timeline:    timeline{Events: []json.RawMessage{}},
		Ephemeral:   eventList{Events: []json.RawMessage{}},
		AccountData: eventList{Events: []json.RawMessage{}},
	}
	if stateAfterParam != "" {
		jr.State = nil
		jr.set(stateAfterParam, nil)
	}
	return jr
}
