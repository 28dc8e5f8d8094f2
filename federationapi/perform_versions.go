package federationapi

import (
	"context"
	"net/url"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/matrixrules"
)

// advertisedVersions are the room versions make_join and make_knock
// offer: exactly those this server creates and joins (gomatrixserverlib's
// own list has unstable versions Axon does not implement, so a remote
// server could answer with a template Axon must then refuse).
func advertisedVersions() []gomatrixserverlib.RoomVersion {
	out := make([]gomatrixserverlib.RoomVersion, len(matrixrules.SupportedVersions))
	for i, v := range matrixrules.SupportedVersions {
		out[i] = gomatrixserverlib.RoomVersion(v)
	}
	return out
}

// makeJoinPath is the make_join request path with one ver per
// advertised version.
func makeJoinPath(roomID, userID string) string {
	q := url.Values{}
	for _, v := range advertisedVersions() {
		q.Add("ver", string(v))
	}
	return "/_matrix/federation/v1/make_join/" + url.PathEscape(roomID) + "/" + url.PathEscape(userID) + "?" + q.Encode()
}

// makeJoin asks server for a join template, offering advertisedVersions.
func (f *FederationAPI) makeJoin(ctx context.Context, server spec.ServerName, roomID, userID string) (fclient.RespMakeJoin, error) {
	var res fclient.RespMakeJoin
	req := fclient.NewFederationRequest("GET", f.id.ServerName, server, makeJoinPath(roomID, userID))
	if err := req.Sign(f.id.ServerName, f.id.KeyID, f.id.PrivateKey); err != nil {
		return res, err
	}
	httpReq, err := req.HTTPRequest()
	if err != nil {
		return res, err
	}
	err = f.Client.DoRequestAndParseResponse(ctx, httpReq, &res)
	return res, err
}
