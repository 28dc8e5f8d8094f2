package clientapi

import (
	"encoding/json"
	"net/http"
	"strings"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixrules"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// knockAnywhere serves POST /knock/{roomIdOrAlias}: rooms this server is
// not in (a remote alias, or a room ID unknown or left here) are knocked
// on over federation through ?server_name=/?via= and the room's domain;
// the rest go to the local knock.
func (h *roomRoutes) knockAnywhere(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	ctx := req.Context()
	idOrAlias := req.PathValue("roomIdOrAlias")
	vias := viaServers(req)
	remote := strings.HasPrefix(idOrAlias, "#") && matrixrules.ValidRoomAlias(idOrAlias) && !strings.HasSuffix(idOrAlias, ":"+h.server)
	if strings.HasPrefix(idOrAlias, "!") && !h.serverInRoom(ctx, idOrAlias) && (len(vias) > 0 || !h.createdHere(ctx, idOrAlias)) {
		remote = true
	}
	if !remote {
		return h.knock(req, dev)
	}
	var body membershipBody
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	fed := h.fed()
	if fed == nil {
		return httputil.NotFound("Room %s is not known to this server and federation is disabled", idOrAlias)
	}
	content := map[string]any{}
	if body.Reason != "" {
		content["reason"] = body.Reason
	}
	h.addProfile(ctx, dev.UserID, content)
	raw, _ := json.Marshal(content)
	resp, err := fed.PerformKnock(ctx, &fedapi.PerformJoinRequest{RoomIDOrAlias: idOrAlias, UserID: dev.UserID, ServerNames: vias, Content: raw})
	if err != nil {
		return h.rsError(err, "remote knock")
	}
	return httputil.OK(map[string]string{"room_id": resp.RoomID})
}
