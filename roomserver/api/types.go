package api

import (
	"encoding/json"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
)

// InputKind says how an event reached us, which decides the checks and
// whether it moves the room's current state.
type InputKind int

const (
	// KindNew: a live event (local, or federation /send). Auth-checked
	// against its auth events, the state before it and the current state.
	KindNew InputKind = iota
	// KindOutlier: an event with no known state (auth chains, invites
	// from other servers). Checked against its auth events only.
	KindOutlier
	// KindBackfill: a historical event; stored with its state, never
	// changes current state or forward extremities.
	KindBackfill
	// KindOutOfBand: a membership event for a room this server is not in
	// (an invite from another server, or our own leave sent with
	// send_leave). Its auth events are unknown, so it is not auth-checked
	// (the caller checked its signatures); it is stored as an outlier,
	// creates a stub room if the room is unknown, updates the user's
	// membership and is output so their clients see it.
	KindOutOfBand
)

// InputRoomEventsRequest holds events for one room, applied in order.
// Exactly one of Event / Local is set per entry.
type InputRoomEventsRequest struct {
	Events []InputRoomEvent `json:"events"`
}

// InputRoomEvent is one event to input.
type InputRoomEvent struct {
	Kind InputKind `json:"kind"`
	// Event is a PDU built elsewhere (federation).
	Event *Event `json:"event,omitempty"`
	// Local is an event this server builds, signs and sends: the
	// roomserver fills room-version format, prev/auth events and depth.
	Local *LocalEvent `json:"local,omitempty"`
	// TransactionID makes local sends idempotent per device: the same
	// (user, device, room, txn) returns the first event ID.
	TransactionID *TransactionID `json:"transaction_id,omitempty"`
	// SendAsServer asks the federation sender to send it.
	SendAsServer string `json:"send_as_server,omitempty"`
	// HasState: the state before Event is StateEventIDs (events already
	// stored, e.g. as outliers) rather than what its prev events give.
	// Used for a remote join (the send_join state) and to step over a gap
	// in the DAG (state from /state_ids). See roomserver/import.go.
	HasState      bool     `json:"has_state,omitempty"`
	StateEventIDs []string `json:"state_event_ids,omitempty"`
}

// LocalEvent is an event a local user sends. RoomID is empty only for the
// m.room.create of a new room (its ID then comes from the response, which
// matters for v12 where the room ID is the create event's hash); later
// events in the same request with an empty RoomID go to that new room.
type LocalEvent struct {
	RoomID   matrixid.RoomID    `json:"room_id"`
	Sender   matrixid.UserID    `json:"sender"`
	Type     matrixid.EventType `json:"type"`
	StateKey *string            `json:"state_key,omitempty"`
	Content  json.RawMessage    `json:"content"`
	Redacts  matrixid.EventID   `json:"redacts,omitempty"`
	// RoomVersion is used only for a create event.
	RoomVersion string `json:"room_version,omitempty"`
	// OriginServerTS defaults to now.
	OriginServerTS time.Time `json:"origin_server_ts,omitzero"`
}

// InputRoomEventsResponse has one result per input event.
type InputRoomEventsResponse struct {
	RoomID  matrixid.RoomID `json:"room_id"`
	Results []InputResult   `json:"results"`
}

// InputResult is the outcome of one event. Err is nil for accepted
// events; for local events a rejection is not stored.
type InputResult struct {
	EventID matrixid.EventID `json:"event_id"`
	// SoftFailed: stored but not part of the timeline (federation).
	SoftFailed bool `json:"soft_failed,omitempty"`
	// Duplicate: txnId or event already seen; EventID is the first one.
	Duplicate bool   `json:"duplicate,omitempty"`
	Err       *Error `json:"error,omitempty"`
	// MissingPrevEvents / MissingAuthEvents: the event was not stored
	// because these are unknown (prev events stored only as outliers
	// count as unknown); the federation receiver fetches them and retries.
	MissingPrevEvents []string `json:"missing_prev_events,omitempty"`
	MissingAuthEvents []string `json:"missing_auth_events,omitempty"`
}

// StateKey is an (event type, state key) pair.
type StateKey struct {
	Type     matrixid.EventType `json:"type"`
	StateKey string             `json:"state_key"`
}

// RoomSummary is the public view of a room for directories and spaces.
type RoomSummary struct {
	RoomID            string          `json:"room_id"`
	Name              string          `json:"name,omitempty"`
	Topic             string          `json:"topic,omitempty"`
	AvatarURL         string          `json:"avatar_url,omitempty"`
	CanonicalAlias    string          `json:"canonical_alias,omitempty"`
	NumJoinedMembers  int             `json:"num_joined_members"`
	JoinRule          string          `json:"join_rule,omitempty"`
	GuestCanJoin      bool            `json:"guest_can_join"`
	WorldReadable     bool            `json:"world_readable"`
	RoomType          string          `json:"room_type,omitempty"`
	RoomVersion       string          `json:"room_version,omitempty"`
	Encryption        string          `json:"encryption,omitempty"`
	HistoryVisibility string          `json:"-"`
	AllowedRoomIDs    []string        `json:"-"`
	Children          []SpaceChild    `json:"-"`
	ChildrenState     []*Event        `json:"-"`
	Extra             json.RawMessage `json:"-"`
}

// SpaceChild is one m.space.child of a space.
type SpaceChild struct {
	RoomID string   `json:"room_id"`
	Via    []string `json:"via"`
}

// PublicRoomsRequest pages the public room directory.
type PublicRoomsRequest struct {
	Limit  int    `json:"limit"`
	Since  string `json:"since"`
	Filter string `json:"filter"`
	// ThirdPartyInstanceID ("<appservice id>|<network id>") pages through
	// that appservice network's directory instead of the server's.
	ThirdPartyInstanceID string `json:"third_party_instance_id,omitempty"`
	// AllNetworks adds every appservice network directory to the server's.
	AllNetworks bool `json:"include_all_networks,omitempty"`
}

// PublicRoomsResponse is one page of it.
type PublicRoomsResponse struct {
	Chunk     []RoomSummary `json:"chunk"`
	NextBatch string        `json:"next_batch,omitempty"`
	PrevBatch string        `json:"prev_batch,omitempty"`
	Total     int           `json:"total_room_count_estimate"`
}

// RoomMediaPage is one page of QueryRoomMediaURIs.
type RoomMediaPage struct {
	URIs []string `json:"uris"`
	Next int64    `json:"next"`
}
