package syncapi

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// slidingFilters are a list's room filters (MSC4186); unset fields do
// not filter. In room_types/not_room_types a null entry stands for
// rooms without a type.
type slidingFilters struct {
	IsDM         *bool     `json:"is_dm"`
	Spaces       []string  `json:"spaces"`
	IsEncrypted  *bool     `json:"is_encrypted"`
	IsInvite     *bool     `json:"is_invite"`
	RoomTypes    []*string `json:"room_types"`
	NotRoomTypes []*string `json:"not_room_types"`
}

// bumpEventTypes are the events that move a room up a list: messages and
// the like, not state or reactions (MSC4186 bump_stamp).
var bumpEventTypes = []string{spec.MRoomCreate, matrixrules.MRoomMessage, matrixrules.MRoomEncrypted, "m.sticker",
	matrixrules.MCallInvite, "m.poll.start", "m.beacon_info"}

// roomOrder sorts room IDs by bump stamp, newest first, then by ID so the
// order is stable. A room the user is invited to is bumped by the invite.
func (s *SyncAPI) roomOrder(ctx context.Context, ids []string, byRoom map[string]storage.MembershipChange, upTo types.StreamPosition) (map[string]types.StreamPosition, error) {
	bump, err := s.db.LatestRoomPositions(ctx, ids, upTo, bumpEventTypes...)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if m := byRoom[id]; m.Membership != "join" || bump[id] == 0 {
			bump[id] = max(bump[id], m.Pos)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if bump[ids[i]] != bump[ids[j]] {
			return bump[ids[i]] > bump[ids[j]]
		}
		return ids[i] < ids[j]
	})
	return bump, nil
}

// filterContext holds what filters read, loaded once per request.
type filterContext struct {
	s       *SyncAPI
	ctx     context.Context
	userID  string
	byRoom  map[string]storage.MembershipChange
	direct  map[string]bool            // rooms in m.direct; nil until loaded
	inSpace map[string]map[string]bool // space -> child rooms
}

func (f *filterContext) isDM(roomID string) bool {
	if f.direct == nil {
		f.direct = map[string]bool{}
		content, err := f.s.db.GetAccountData(f.ctx, f.userID, "", matrixrules.MDirect)
		if err == nil && len(content) > 0 {
			var m map[string][]string
			if json.Unmarshal(content, &m) == nil {
				for _, rooms := range m {
					for _, r := range rooms {
						f.direct[r] = true
					}
				}
			}
		}
	}
	if f.direct[roomID] {
		return true
	}
	// An invite marked is_direct is a DM before the client records it.
	if m := f.byRoom[roomID]; m.Membership == "invite" {
		if ev, err := f.s.db.EventByID(f.ctx, nil, m.EventID); err == nil && ev != nil {
			return gjson.GetBytes(ev.JSON, "content.is_direct").Bool()
		}
	}
	return false
}

func (f *filterContext) spaceChildren(spaceID string) map[string]bool {
	if c, ok := f.inSpace[spaceID]; ok {
		return c
	}
	children := map[string]bool{}
	if rs, err := f.s.cache.get(f.ctx, spaceID); err == nil {
		for _, ev := range rs.all() {
			if ev.Type == spec.MSpaceChild && gjson.GetBytes(ev.JSON, "content.via.#").Int() > 0 {
				children[*ev.StateKey] = true
			}
		}
	}
	f.inSpace[spaceID] = children
	return children
}

// allows reports whether roomID passes the list's filters.
func (f *filterContext) allows(fl *slidingFilters, roomID string) (bool, error) {
	if fl == nil {
		return true, nil
	}
	if fl.IsInvite != nil && *fl.IsInvite != (f.byRoom[roomID].Membership == "invite") {
		return false, nil
	}
	if fl.IsDM != nil && *fl.IsDM != f.isDM(roomID) {
		return false, nil
	}
	if len(fl.Spaces) > 0 {
		in := false
		for _, sp := range fl.Spaces {
			if f.spaceChildren(sp)[roomID] {
				in = true
				break
			}
		}
		if !in {
			return false, nil
		}
	}
	if fl.IsEncrypted == nil && fl.RoomTypes == nil && fl.NotRoomTypes == nil {
		return true, nil
	}
	rs, err := f.s.cache.get(f.ctx, roomID)
	if err != nil {
		return false, err
	}
	if fl.IsEncrypted != nil && *fl.IsEncrypted != (rs.get(spec.MRoomEncryption, "") != nil) {
		return false, nil
	}
	var roomType *string
	if t := rs.contentField(spec.MRoomCreate, "", "type"); t.Type == gjson.String {
		roomType = &t.Str
	}
	if fl.RoomTypes != nil && !typeListed(fl.RoomTypes, roomType) {
		return false, nil
	}
	if typeListed(fl.NotRoomTypes, roomType) {
		return false, nil
	}
	return true, nil
}

func typeListed(list []*string, t *string) bool {
	for _, x := range list {
		if (x == nil && t == nil) || (x != nil && t != nil && *x == *t) {
			return true
		}
	}
	return false
}
