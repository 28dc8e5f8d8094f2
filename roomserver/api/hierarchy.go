package api

import (
	"encoding/json"
	"slices"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// StrippedChild is an m.space.child event in the stripped form that the
// client and federation /hierarchy responses carry as children_state.
type StrippedChild struct {
	Type           string          `json:"type"`
	StateKey       string          `json:"state_key"`
	Content        json.RawMessage `json:"content"`
	Sender         string          `json:"sender"`
	OriginServerTS int64           `json:"origin_server_ts"`
}

// HierarchyRoom is a room as the client and federation /hierarchy
// responses show it: the spec's room summary (with allowed_room_ids,
// encryption and room_version) and, for a space, its m.space.child
// events. It is also how another server's answer is read.
type HierarchyRoom struct {
	RoomID           string          `json:"room_id"`
	Name             string          `json:"name,omitempty"`
	Topic            string          `json:"topic,omitempty"`
	AvatarURL        string          `json:"avatar_url,omitempty"`
	CanonicalAlias   string          `json:"canonical_alias,omitempty"`
	NumJoinedMembers int             `json:"num_joined_members"`
	JoinRule         string          `json:"join_rule,omitempty"`
	GuestCanJoin     bool            `json:"guest_can_join"`
	WorldReadable    bool            `json:"world_readable"`
	RoomType         string          `json:"room_type,omitempty"`
	RoomVersion      string          `json:"room_version,omitempty"`
	Encryption       string          `json:"encryption,omitempty"`
	AllowedRoomIDs   []string        `json:"allowed_room_ids,omitempty"`
	ChildrenState    []StrippedChild `json:"children_state"`
}

// SpaceLink is a child of a space and the servers to ask about it.
type SpaceLink struct {
	RoomID string
	Via    []string
}

// IsSpace: the room is a space-room (only their children count).
func (r *HierarchyRoom) IsSpace() bool { return r.RoomType == spec.MSpace }

// Preview is what decides whether r may be shown (matrixrules).
func (r *HierarchyRoom) Preview() matrixrules.RoomPreview {
	return matrixrules.RoomPreview{JoinRule: r.JoinRule, WorldReadable: r.WorldReadable, RoomVersion: r.RoomVersion, AllowedRoomIDs: r.AllowedRoomIDs}
}

// Links are the space's children in the spec's order ("Ordering of
// children within a space"); links without a via list are removed
// ones and left out, as is everything of a room that is not a space.
func (r *HierarchyRoom) Links() []SpaceLink {
	if !r.IsSpace() {
		return nil
	}
	var out []SpaceLink
	seen := map[string]bool{}
	for _, c := range SortChildren(r.ChildrenState) {
		if c.Type != spec.MSpaceChild || c.StateKey == "" || seen[c.StateKey] {
			continue
		}
		var via []string
		for _, v := range gjson.GetBytes(c.Content, "via").Array() {
			if v.Type == gjson.String && v.Str != "" {
				via = append(via, v.Str)
			}
		}
		if len(via) == 0 {
			continue
		}
		seen[c.StateKey] = true
		out = append(out, SpaceLink{RoomID: c.StateKey, Via: via})
	}
	return out
}

// SortChildren returns m.space.child events in the spec's order
// (matrixrules.CompareSpaceChildren); children is not changed.
func SortChildren(children []StrippedChild) []StrippedChild {
	key := func(c StrippedChild) matrixrules.SpaceChildOrder {
		k := matrixrules.SpaceChildOrder{RoomID: c.StateKey, TS: c.OriginServerTS}
		if order := gjson.GetBytes(c.Content, "order"); order.Type == gjson.String {
			k.Order, k.HasOrder = order.Str, true
		}
		return k
	}
	out := slices.Clone(children)
	slices.SortStableFunc(out, func(a, b StrippedChild) int { return matrixrules.CompareSpaceChildren(key(a), key(b)) })
	return out
}

// HierarchyRoom is s as a hierarchy shows it: children_state only for a
// space (only the suggested children with suggestedOnly),
// allowed_room_ids only for a restricted join rule.
func (s *RoomSummary) HierarchyRoom(suggestedOnly bool) HierarchyRoom {
	r := HierarchyRoom{
		RoomID: s.RoomID, Name: s.Name, Topic: s.Topic, AvatarURL: s.AvatarURL, CanonicalAlias: s.CanonicalAlias,
		NumJoinedMembers: s.NumJoinedMembers, JoinRule: s.JoinRule, GuestCanJoin: s.GuestCanJoin, WorldReadable: s.WorldReadable,
		RoomType: s.RoomType, RoomVersion: s.RoomVersion, Encryption: s.Encryption,
		ChildrenState: []StrippedChild{},
	}
	if s.JoinRule == spec.Restricted || s.JoinRule == spec.KnockRestricted {
		r.AllowedRoomIDs = s.AllowedRoomIDs
	}
	if r.IsSpace() {
		r.ChildrenState = SortChildren(s.StrippedChildren(suggestedOnly))
	}
	return r
}

// StrippedChildren returns the space's m.space.child events stripped (only
// suggested ones if suggestedOnly).
func (s *RoomSummary) StrippedChildren(suggestedOnly bool) []StrippedChild {
	out := []StrippedChild{}
	for _, ev := range s.ChildrenState {
		if ev.StateKey() == nil || (suggestedOnly && gjson.GetBytes(ev.Content(), "suggested").Type != gjson.True) {
			continue
		}
		out = append(out, StrippedChild{
			Type: ev.Type(), StateKey: *ev.StateKey(), Content: json.RawMessage(ev.Content()),
			Sender: string(ev.SenderID()), OriginServerTS: int64(ev.OriginServerTS()),
		})
	}
	return out
}
