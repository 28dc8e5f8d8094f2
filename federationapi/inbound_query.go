package federationapi

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

func (f *FederationAPI) queryDirectory(req *FedRequest) httputil.JSONResponse {
	alias := req.URL.Query().Get("room_alias")
	if alias == "" {
		return httputil.MissingParam("Missing room_alias")
	}
	if domainOf(alias) != f.id.ServerName {
		return httputil.NotFound("Room alias %s is not on this server", alias)
	}
	roomID, _, err := f.rooms.QueryAlias(req.Context(), alias)
	if err == nil && roomID == "" && f.appservices != nil && f.base.Cfg.AppServiceMayCreateAlias(alias) {
		if created, _ := f.appservices.QueryRoomAlias(req.Context(), alias); created {
			roomID, _, err = f.rooms.QueryAlias(req.Context(), alias)
		}
	}
	if err != nil {
		return f.rsError("alias", err)
	}
	if roomID == "" {
		return httputil.NotFound("Room alias %s not found", alias)
	}
	servers := []string{string(f.id.ServerName)}
	if members, err := f.rooms.QueryCurrentState(req.Context(), roomID, []rsapi.StateKey{{Type: spec.MRoomMember, StateKey: "*"}}); err == nil {
		servers = append(servers, joinedServers(members)...)
	}
	return httputil.OK(map[string]any{"room_id": roomID, "servers": f.candidatesWithSelf(servers)})
}

// joinedServers lists the servers of joined members.
func joinedServers(members []*rsapi.Event) []string {
	var out []string
	for _, e := range members {
		if m, _ := e.Membership(); m == spec.Join && e.StateKey() != nil {
			out = append(out, string(domainOf(*e.StateKey())))
		}
	}
	return out
}

func (f *FederationAPI) candidatesWithSelf(servers []string) []string {
	out := []string{string(f.id.ServerName)}
	for _, s := range f.candidates(servers) {
		out = append(out, string(s))
	}
	return out
}

// AppserviceQuerier asks appservices about users and aliases that do not
// exist yet (appservice/api.AppserviceAPI).
type AppserviceQuerier interface {
	QueryUserID(ctx context.Context, userID string) (bool, error)
	QueryRoomAlias(ctx context.Context, alias string) (bool, error)
}

func (f *FederationAPI) queryProfile(req *FedRequest) httputil.JSONResponse {
	ctx := req.Context()
	userID := req.URL.Query().Get("user_id")
	field := req.URL.Query().Get("field")
	if userID == "" {
		return httputil.MissingParam("Missing user_id")
	}
	if _, err := spec.NewUserID(userID, true); err != nil {
		return httputil.InvalidParam("Invalid user_id")
	}
	if domainOf(userID) != f.id.ServerName {
		return httputil.InvalidParam("User %s is not on this server", userID)
	}
	acct, err := f.users.QueryAccount(ctx, matrixid.UserID(userID))
	if errors.Is(err, uapi.ErrNotFound) && f.appservices != nil && f.base.Cfg.AppServiceMayCreateUser(userID) {
		if created, _ := f.appservices.QueryUserID(ctx, userID); created {
			acct, err = f.users.QueryAccount(ctx, matrixid.UserID(userID))
		}
	}
	if err != nil || acct == nil {
		return httputil.NotFound("Unknown user %s", userID)
	}
	fields, err := f.users.QueryProfileFields(ctx, matrixid.UserID(userID))
	if err != nil {
		return httputil.NotFound("Unknown user %s", userID)
	}
	if field != "" {
		v, ok := fields[field]
		if !ok {
			return httputil.NotFound("The user has no %s", field)
		}
		return httputil.OK(map[string]any{field: v})
	}
	return httputil.OK(fields)
}

func (f *FederationAPI) publicRooms(req *FedRequest) httputil.JSONResponse {
	var body struct {
		Limit  int    `json:"limit"`
		Since  string `json:"since"`
		Filter struct {
			Term string `json:"generic_search_term"`
		} `json:"filter"`
	}
	if req.Method == "POST" {
		if len(req.Content) > 0 && json.Unmarshal(req.Content, &body) != nil {
			return httputil.BadJSON("Invalid request body")
		}
	} else {
		q := req.URL.Query()
		body.Since = q.Get("since")
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 {
				return httputil.InvalidParam("limit must be a non-negative integer")
			}
			body.Limit = n
		}
	}
	resp, err := f.rooms.QueryPublicRooms(req.Context(), &rsapi.PublicRoomsRequest{Limit: body.Limit, Since: body.Since, Filter: body.Filter.Term})
	if err != nil {
		return f.rsError("public rooms", err)
	}
	out := fclient.RespPublicRooms{Chunk: []fclient.PublicRoom{}, NextBatch: resp.NextBatch, PrevBatch: resp.PrevBatch, TotalRoomCountEstimate: resp.Total}
	for _, r := range resp.Chunk {
		out.Chunk = append(out.Chunk, fclient.PublicRoom{
			CanonicalAlias: r.CanonicalAlias, Name: r.Name, JoinedMembersCount: r.NumJoinedMembers, RoomID: r.RoomID,
			Topic: r.Topic, WorldReadable: r.WorldReadable, GuestCanJoin: r.GuestCanJoin, AvatarURL: r.AvatarURL,
			JoinRule: r.JoinRule, RoomType: r.RoomType,
		})
	}
	return httputil.OK(out)
}
