package federationapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/matrixid"
)

// QueryRoomAlias implements fedapi.FederationAPI (/query/directory).
func (f *FederationAPI) QueryRoomAlias(ctx context.Context, alias string) (*fedapi.RoomAlias, error) {
	server := domainOf(alias)
	if server == "" {
		return nil, fedErr(http.StatusBadRequest, "M_INVALID_PARAM", "invalid alias %q", alias)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := f.Client.LookupRoomAlias(ctx, f.id.ServerName, server, alias)
	if err != nil {
		return nil, remoteError(server, err)
	}
	out := &fedapi.RoomAlias{RoomID: resp.RoomID}
	for _, s := range resp.Servers {
		out.Servers = append(out.Servers, string(s))
	}
	return out, nil
}

// QueryProfile implements fedapi.FederationAPI (/query/profile).
func (f *FederationAPI) QueryProfile(ctx context.Context, userID matrixid.UserID, field string) (map[string]json.RawMessage, error) {
	server := domainOf(string(userID))
	if server == "" {
		return nil, fedErr(http.StatusBadRequest, "M_INVALID_PARAM", "invalid user ID %q", userID)
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := f.Client.LookupProfile(ctx, f.id.ServerName, server, string(userID), field)
	if err != nil {
		return nil, remoteError(server, err)
	}
	out := map[string]json.RawMessage{}
	if resp.DisplayName != "" {
		out["displayname"], _ = json.Marshal(resp.DisplayName)
	}
	if resp.AvatarURL != "" {
		out["avatar_url"], _ = json.Marshal(resp.AvatarURL)
	}
	return out, nil
}

// QueryPublicRooms implements fedapi.FederationAPI (POST /publicRooms).
func (f *FederationAPI) QueryPublicRooms(ctx context.Context, server string, q fedapi.PublicRoomsQuery) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := f.Client.GetPublicRoomsFiltered(ctx, f.id.ServerName, spec.ServerName(server), q.Limit, q.Since, q.Filter, q.IncludeAllNetworks, q.ThirdPartyInstanceID)
	if err != nil {
		return nil, remoteError(spec.ServerName(server), err)
	}
	if resp.Chunk == nil {
		resp.Chunk = []fclient.PublicRoom{}
	}
	return json.Marshal(resp)
}
