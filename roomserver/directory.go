package roomserver

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/roomserver/storage"
)

// SetRoomAlias implements api.RoomserverAPI.
func (r *RoomServer) SetRoomAlias(ctx context.Context, alias string, roomID matrixid.RoomID, creator matrixid.UserID) error {
	if _, err := r.mustRoom(ctx, string(roomID)); err != nil {
		return err
	}
	err := r.db.InsertAlias(ctx, alias, string(roomID), string(creator))
	if errors.Is(err, storage.ErrAliasExists) {
		return api.Errorf(api.CodeInUse, "room alias "+alias+" already exists")
	}
	return err
}

// RemoveRoomAlias implements api.RoomserverAPI.
func (r *RoomServer) RemoveRoomAlias(ctx context.Context, alias string) error {
	ok, err := r.db.DeleteAlias(ctx, alias)
	if err == nil && !ok {
		return api.Errorf(api.CodeNotFound, "room alias "+alias+" not found")
	}
	return err
}

// QueryAlias implements api.RoomserverAPI; roomID is empty when unknown.
func (r *RoomServer) QueryAlias(ctx context.Context, alias string) (matrixid.RoomID, matrixid.UserID, error) {
	roomID, creator, err := r.db.Alias(ctx, alias)
	return matrixid.RoomID(roomID), matrixid.UserID(creator), err
}

// QueryAliasesForRoom implements api.RoomserverAPI.
func (r *RoomServer) QueryAliasesForRoom(ctx context.Context, roomID matrixid.RoomID) ([]string, error) {
	return r.db.AliasesForRoom(ctx, string(roomID))
}

// MoveAliases re-points a room's aliases to another (room upgrades).
func (r *RoomServer) MoveAliases(ctx context.Context, from, to matrixid.RoomID) error {
	return r.db.MoveAliases(ctx, string(from), string(to))
}

// SetRoomVisibility implements api.RoomserverAPI.
func (r *RoomServer) SetRoomVisibility(ctx context.Context, roomID matrixid.RoomID, visibility string) error {
	if _, err := r.mustRoom(ctx, string(roomID)); err != nil {
		return err
	}
	return r.db.SetPublished(ctx, string(roomID), visibility == "public")
}

// SetNetworkRoomVisibility implements api.RoomserverAPI.
func (r *RoomServer) SetNetworkRoomVisibility(ctx context.Context, appserviceID, networkID string, roomID matrixid.RoomID, visibility string) error {
	if _, err := r.mustRoom(ctx, string(roomID)); err != nil {
		return err
	}
	return r.db.SetNetworkPublished(ctx, appserviceID, networkID, string(roomID), visibility == "public")
}

// publicRoomIDs are the rooms of the directory req asks for.
func (r *RoomServer) publicRoomIDs(ctx context.Context, req *api.PublicRoomsRequest) ([]string, error) {
	if req.ThirdPartyInstanceID != "" {
		as, network, ok := strings.Cut(req.ThirdPartyInstanceID, "|")
		if !ok || as == "" {
			return nil, nil
		}
		return r.db.NetworkPublishedRooms(ctx, as, network)
	}
	ids, err := r.db.PublishedRooms(ctx)
	if err != nil || !req.AllNetworks {
		return ids, err
	}
	more, err := r.db.NetworkPublishedRooms(ctx, "", "")
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range more {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// QueryRoomVisibility implements api.RoomserverAPI.
func (r *RoomServer) QueryRoomVisibility(ctx context.Context, roomID matrixid.RoomID) (string, error) {
	row, err := r.db.RoomByID(ctx, r.db, string(roomID))
	if err != nil {
		return "", err
	}
	if row == nil {
		return "", api.ErrRoomNotFound
	}
	if row.Published {
		return "public", nil
	}
	return "private", nil
}

// QueryRoomSummary implements api.RoomserverAPI from current state.
func (r *RoomServer) QueryRoomSummary(ctx context.Context, roomID matrixid.RoomID) (*api.RoomSummary, error) {
	rm, err := r.mustRoom(ctx, string(roomID))
	if err != nil {
		return nil, err
	}
	s := &api.RoomSummary{RoomID: string(roomID), RoomVersion: string(rm.version.Version()), HistoryVisibility: api.VisibilityShared}
	interesting := storage.StateMap{}
	for t, nid := range rm.nonMemberState() { // members are counted below
		switch t.EventType {
		case spec.MSpaceChild:
			interesting[t] = nid
		case spec.MRoomName, spec.MRoomTopic, spec.MRoomAvatar, spec.MRoomCanonicalAlias, spec.MRoomJoinRules,
			spec.MRoomGuestAccess, spec.MRoomHistoryVisibility, spec.MRoomCreate, spec.MRoomEncryption:
			if t.StateKey == "" {
				interesting[t] = nid
			}
		}
	}
	evs, err := r.stateEvents(ctx, rm, interesting)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		c := ev.Content()
		switch ev.Type() {
		case spec.MRoomName:
			s.Name = gjson.GetBytes(c, "name").Str
		case spec.MRoomTopic:
			s.Topic = gjson.GetBytes(c, "topic").Str
		case spec.MRoomAvatar:
			s.AvatarURL = gjson.GetBytes(c, "url").Str
		case spec.MRoomCanonicalAlias:
			s.CanonicalAlias = gjson.GetBytes(c, "alias").Str
		case spec.MRoomJoinRules:
			s.JoinRule = gjson.GetBytes(c, "join_rule").Str
			s.AllowedRoomIDs = matrixrules.AllowedRoomIDs(c)
		case spec.MRoomGuestAccess:
			s.GuestCanJoin = gjson.GetBytes(c, "guest_access").Str == "can_join"
		case spec.MRoomHistoryVisibility:
			s.HistoryVisibility = visibilityOf(ev.PDU)
			s.WorldReadable = s.HistoryVisibility == api.VisibilityWorldReadable
		case spec.MRoomCreate:
			s.RoomType = gjson.GetBytes(c, "type").Str
		case spec.MRoomEncryption:
			s.Encryption = gjson.GetBytes(c, "algorithm").Str
		case spec.MSpaceChild:
			via := gjson.GetBytes(c, "via").Array()
			if len(via) == 0 {
				continue // an empty via removes the child
			}
			child := api.SpaceChild{RoomID: *ev.StateKey()}
			for _, v := range via {
				child.Via = append(child.Via, v.Str)
			}
			s.Children = append(s.Children, child)
			s.ChildrenState = append(s.ChildrenState, ev)
		}
	}
	s.NumJoinedMembers, err = r.joinedNow(ctx, rm)
	return s, err
}

// QueryHierarchyRoom implements api.RoomserverAPI.
func (r *RoomServer) QueryHierarchyRoom(ctx context.Context, roomID matrixid.RoomID, suggestedOnly bool) (*api.HierarchyRoom, error) {
	s, err := r.QueryRoomSummary(ctx, roomID)
	if err != nil {
		return nil, err
	}
	hr := s.HierarchyRoom(suggestedOnly)
	return &hr, nil
}

// QueryPublicRooms implements api.RoomserverAPI: published rooms, most
// members first; Since is an offset into that order.
func (r *RoomServer) QueryPublicRooms(ctx context.Context, req *api.PublicRoomsRequest) (*api.PublicRoomsResponse, error) {
	ids, err := r.publicRoomIDs(ctx, req)
	if err != nil {
		return nil, err
	}
	term := strings.ToLower(strings.TrimSpace(req.Filter))
	var all []api.RoomSummary
	for _, id := range ids {
		s, err := r.QueryRoomSummary(ctx, matrixid.RoomID(id))
		if err != nil {
			if _, ok := api.AsError(err); ok {
				continue
			}
			return nil, err
		}
		if term != "" && !strings.Contains(strings.ToLower(s.Name+"\x00"+s.Topic+"\x00"+s.CanonicalAlias+"\x00"+s.RoomID), term) {
			continue
		}
		all = append(all, *s)
	}
	slices.SortStableFunc(all, func(a, b api.RoomSummary) int { return b.NumJoinedMembers - a.NumJoinedMembers })
	offset, _ := strconv.Atoi(req.Since)
	offset = max(0, min(offset, len(all)))
	limit := req.Limit
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	end := min(offset+limit, len(all))
	resp := &api.PublicRoomsResponse{Chunk: all[offset:end], Total: len(all)}
	if resp.Chunk == nil {
		resp.Chunk = []api.RoomSummary{}
	}
	if end < len(all) {
		resp.NextBatch = strconv.Itoa(end)
	}
	if offset > 0 {
		resp.PrevBatch = strconv.Itoa(max(0, offset-limit))
	}
	return resp, nil
}

// QueryAllRooms implements api.RoomserverAPI.
func (r *RoomServer) QueryAllRooms(ctx context.Context) ([]string, error) {
	return r.db.AllRooms(ctx)
}
