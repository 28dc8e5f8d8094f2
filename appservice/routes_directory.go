package appservice

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// publishInNetwork: PUT /directory/list/appservice/{networkId}/{roomId},
// only with an as_token: lists or unlists the room in the appservice's
// directory of that network (/publicRooms with third_party_instance_id
// "<appservice id>|<network id>").
func (r *routes) publishInNetwork(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	if dev.AppserviceID == "" {
		return httputil.Forbidden("Only application services may publish rooms in a network directory")
	}
	var body struct {
		Visibility string `json:"visibility"`
	}
	if r := httputil.DecodeJSON(req, &body); r != nil {
		return *r
	}
	if body.Visibility != "public" && body.Visibility != "private" {
		return httputil.InvalidParam("visibility must be public or private")
	}
	networkID, roomID := req.PathValue("networkId"), req.PathValue("roomId")
	if networkID == "" || len(networkID) > 255 {
		return httputil.InvalidParam("Invalid network ID")
	}
	if err := r.directory.SetNetworkRoomVisibility(req.Context(), dev.AppserviceID, networkID, roomID, body.Visibility); err != nil {
		return roomError(err, roomID)
	}
	return httputil.Empty()
}
