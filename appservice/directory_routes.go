package appservice

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
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
	visibility, errResp := httputil.DecodeVisibility(req)
	if errResp != nil {
		return *errResp
	}
	networkID, roomID := req.PathValue("networkId"), req.PathValue("roomId")
	if networkID == "" || len(networkID) > 255 {
		return httputil.InvalidParam("Invalid network ID")
	}
	if err := r.directory.SetNetworkRoomVisibility(req.Context(), dev.AppserviceID, networkID, matrixid.RoomID(roomID), visibility); err != nil {
		return roomError(err, roomID)
	}
	return httputil.Empty()
}
