package types

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/jsontext"
)

// EventFilter is the spec's EventFilter (presence, global account data).
type EventFilter struct {
	Limit      *int      `json:"limit,omitempty"`
	Types      *[]string `json:"types,omitempty"`
	NotTypes   []string  `json:"not_types,omitempty"`
	Senders    *[]string `json:"senders,omitempty"`
	NotSenders []string  `json:"not_senders,omitempty"`
}

// RoomEventFilter is the spec's RoomEventFilter (timeline, state,
// ephemeral, room account data, /messages).
type RoomEventFilter struct {
	EventFilter
	Rooms                     *[]string `json:"rooms,omitempty"`
	NotRooms                  []string  `json:"not_rooms,omitempty"`
	ContainsURL               *bool     `json:"contains_url,omitempty"`
	LazyLoadMembers           bool      `json:"lazy_load_members,omitempty"`
	IncludeRedundantMembers   bool      `json:"include_redundant_members,omitempty"`
	UnreadThreadNotifications bool      `json:"unread_thread_notifications,omitempty"`
	// RelTypes / NotRelTypes select events by m.relates_to.rel_type
	// (MSC3874, unstable names); an event without a relation has none.
	RelTypes    *[]string `json:"org.matrix.msc3874.rel_types,omitempty"`
	NotRelTypes []string  `json:"org.matrix.msc3874.not_rel_types,omitempty"`
}

// RoomFilter is the spec's RoomFilter.
type RoomFilter struct {
	Rooms        *[]string       `json:"rooms,omitempty"`
	NotRooms     []string        `json:"not_rooms,omitempty"`
	IncludeLeave bool            `json:"include_leave,omitempty"`
	Timeline     RoomEventFilter `json:"timeline"`
	State        RoomEventFilter `json:"state"`
	Ephemeral    RoomEventFilter `json:"ephemeral"`
	AccountData  RoomEventFilter `json:"account_data"`
}

// Filter is the top-level filter a client uploads or passes inline.
type Filter struct {
	EventFields []string    `json:"event_fields,omitempty"`
	EventFormat string      `json:"event_format,omitempty"`
	Presence    EventFilter `json:"presence"`
	AccountData EventFilter `json:"account_data"`
	Room        RoomFilter  `json:"room"`
}

// DefaultTimelineLimit is the timeline size when a filter gives none.
const DefaultTimelineLimit = 10

// MaxTimelineLimit caps what a client may ask for in one response.
const MaxTimelineLimit = 1000

// ParseFilter decodes and validates filter JSON. Errors are meant for a
// M_BAD_JSON response.
func ParseFilter(data []byte) (*Filter, error) {
	var f Filter
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if err := jsontext.Check(data); err != nil { // inline filters skip the body decoder
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate checks the few constraints the spec puts on filter values.
func (f *Filter) Validate() error {
	if f.EventFormat != "" && f.EventFormat != "client" && f.EventFormat != "federation" {
		return errors.New("event_format must be 'client' or 'federation'")
	}
	for _, l := range []*int{f.Presence.Limit, f.AccountData.Limit, f.Room.Timeline.Limit, f.Room.State.Limit, f.Room.Ephemeral.Limit, f.Room.AccountData.Limit} {
		if l != nil && *l < 0 {
			return errors.New("limit must not be negative")
		}
	}
	// senders and rooms lists name users and rooms: anything else is a
	// client bug the client should hear about.
	events := []*EventFilter{&f.Presence, &f.AccountData}
	rooms := [][]string{f.Room.NotRooms}
	if f.Room.Rooms != nil {
		rooms = append(rooms, *f.Room.Rooms)
	}
	for _, rf := range []*RoomEventFilter{&f.Room.Timeline, &f.Room.State, &f.Room.Ephemeral, &f.Room.AccountData} {
		events = append(events, &rf.EventFilter)
		rooms = append(rooms, rf.NotRooms)
		if rf.Rooms != nil {
			rooms = append(rooms, *rf.Rooms)
		}
	}
	for _, ef := range events {
		senders := ef.NotSenders
		if ef.Senders != nil {
			senders = append(senders[:len(senders):len(senders)], *ef.Senders...)
		}
		for _, u := range senders {
			if _, err := spec.NewUserID(u, true); err != nil {
				return fmt.Errorf("invalid user ID %q in senders: %v", u, err)
			}
		}
	}
	for _, list := range rooms {
		for _, r := range list {
			if _, err := spec.NewRoomID(r); err != nil {
				return fmt.Errorf("invalid room ID %q in rooms: %v", r, err)
			}
		}
	}
	return nil
}

// TimelineLimit is the timeline size to serve, clamped to sane bounds.
func (f *Filter) TimelineLimit() int { return f.Room.Timeline.LimitOr(DefaultTimelineLimit) }

// LimitOr returns the filter's limit, def when unset, capped at MaxTimelineLimit.
func (f *EventFilter) LimitOr(def int) int {
	if f.Limit == nil {
		return def
	}
	return min(*f.Limit, MaxTimelineLimit)
}

// matchType matches an event type against a pattern where '*' stands for
// any run of characters.
func matchType(pattern, value string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == value
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(value, parts[0]) {
		return false
	}
	value = value[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(value, p)
		}
		j := strings.Index(value, p)
		if j < 0 {
			return false
		}
		value = value[j+len(p):]
	}
	return true
}

func anyType(patterns []string, value string) bool {
	for _, p := range patterns {
		if matchType(p, value) {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// Allows reports whether an event of type from sender passes the filter.
func (f *EventFilter) Allows(evType, sender string) bool {
	if anyType(f.NotTypes, evType) || contains(f.NotSenders, sender) {
		return false
	}
	if f.Types != nil && !anyType(*f.Types, evType) {
		return false
	}
	if f.Senders != nil && !contains(*f.Senders, sender) {
		return false
	}
	return true
}

// AllowsRoom reports whether roomID passes rooms/not_rooms.
func (f *RoomEventFilter) AllowsRoom(roomID string) bool {
	return allowsRoom(f.Rooms, f.NotRooms, roomID)
}

// AllowsRoom reports whether roomID passes the top-level rooms/not_rooms.
func (f *RoomFilter) AllowsRoom(roomID string) bool {
	return allowsRoom(f.Rooms, f.NotRooms, roomID)
}

func allowsRoom(rooms *[]string, notRooms []string, roomID string) bool {
	if contains(notRooms, roomID) {
		return false
	}
	return rooms == nil || contains(*rooms, roomID)
}

// AllowsEvent applies every room-event criterion to a stored event.
func (f *RoomEventFilter) AllowsEvent(ev *Event) bool {
	if !f.EventFilter.Allows(ev.Type, ev.Sender) || !f.AllowsRoom(ev.RoomID) {
		return false
	}
	if f.ContainsURL != nil && *f.ContainsURL != ev.ContainsURL {
		return false
	}
	if ev.RelType != "" && contains(f.NotRelTypes, ev.RelType) {
		return false
	}
	return f.RelTypes == nil || (ev.RelType != "" && contains(*f.RelTypes, ev.RelType))
}

// IsEmpty reports whether the room-event filter selects everything, so
// callers can skip per-event checks.
func (f *RoomEventFilter) IsEmpty() bool {
	return f.Types == nil && len(f.NotTypes) == 0 && f.Senders == nil && len(f.NotSenders) == 0 &&
		f.Rooms == nil && len(f.NotRooms) == 0 && f.ContainsURL == nil && f.RelTypes == nil && len(f.NotRelTypes) == 0
}
