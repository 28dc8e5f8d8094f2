package clientapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/uia"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// clientDevice is a device as the CS API shows it.
type clientDevice struct {
	DeviceID    string `json:"device_id"`
	DisplayName string `json:"display_name,omitempty"`
	LastSeenIP  string `json:"last_seen_ip,omitempty"`
	LastSeenTS  int64  `json:"last_seen_ts,omitempty"`
}

func toClientDevice(d uapi.DeviceInfo) clientDevice {
	return clientDevice{DeviceID: d.DeviceID, DisplayName: d.DisplayName, LastSeenIP: d.LastSeenIP, LastSeenTS: d.LastSeenTS}
}

// listDevices: GET /devices.
func (a *accountRoutes) listDevices(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	devs, err := a.users.QueryDevices(req.Context(), dev.UserID)
	if err != nil {
		return a.userError(err, "list devices")
	}
	out := make([]clientDevice, 0, len(devs))
	for _, d := range devs {
		out = append(out, toClientDevice(d))
	}
	return httputil.OK(map[string]any{"devices": out})
}

// getDevice: GET /devices/{deviceId}.
func (a *accountRoutes) getDevice(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	d, err := a.users.QueryDevice(req.Context(), dev.UserID, req.PathValue("deviceId"))
	if err != nil {
		return a.userError(err, "get device")
	}
	return httputil.OK(toClientDevice(*d))
}

// maxDeviceNameBytes keeps device names to something a UI can show.
const maxDeviceNameBytes = 1000

// updateDevice: PUT /devices/{deviceId} renames a device.
func (a *accountRoutes) updateDevice(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		DisplayName *string `json:"display_name"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	deviceID := req.PathValue("deviceId")
	if body.DisplayName == nil { // nothing to change; the device must exist
		if _, err := a.users.QueryDevice(req.Context(), dev.UserID, deviceID); err != nil {
			return a.userError(err, "get device")
		}
		return httputil.Empty()
	}
	if len(*body.DisplayName) > maxDeviceNameBytes {
		return httputil.InvalidParam("display_name is longer than %d bytes", maxDeviceNameBytes)
	}
	if err := a.users.SetDeviceDisplayName(req.Context(), dev.UserID, deviceID, *body.DisplayName); err != nil {
		return a.userError(err, "rename device")
	}
	return httputil.Empty()
}

// deleteDevice: DELETE /devices/{deviceId}, with UIA.
func (a *accountRoutes) deleteDevice(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		Auth *uia.Auth `json:"auth"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	return a.removeDevices(req, dev, body.Auth, []string{req.PathValue("deviceId")})
}

// deleteDevices: POST /delete_devices, with UIA.
func (a *accountRoutes) deleteDevices(req *http.Request, dev *uapi.Device) httputil.JSONResponse {
	var body struct {
		Auth    *uia.Auth `json:"auth"`
		Devices []string  `json:"devices"`
	}
	if errResp := httputil.DecodeJSON(req, &body); errResp != nil {
		return *errResp
	}
	if body.Devices == nil {
		return httputil.MissingParam("devices is required")
	}
	return a.removeDevices(req, dev, body.Auth, body.Devices)
}

func (a *accountRoutes) removeDevices(req *http.Request, dev *uapi.Device, auth *uia.Auth, ids []string) httputil.JSONResponse {
	if dev.IsGuest {
		return httputil.GuestForbidden()
	}
	session, challenge := a.uia.Authenticate(req, auth, uia.PasswordOp("delete_devices", dev.UserID))
	if challenge != nil {
		return *challenge
	}
	if err := a.users.DeleteDevices(req.Context(), dev.UserID, ids); err != nil {
		return a.userError(err, "delete devices")
	}
	a.uia.Finish(session)
	return httputil.Empty()
}
