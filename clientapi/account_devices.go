package clientapi

import (
	"errors"
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
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
	devs, err := a.users.QueryDevices(req.Context(), matrixid.UserID(dev.UserID))
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
	d, err := a.users.QueryDevice(req.Context(), matrixid.UserID(dev.UserID), req.PathValue("deviceId"))
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
	if dev.AppserviceID != "" { // appservices create their users' devices here
		if created, r := a.createAppserviceDevice(req, dev, deviceID, body.DisplayName); r != nil || created {
			if r != nil {
				return *r
			}
			return httputil.JSONResponse{Code: http.StatusCreated, JSON: struct{}{}}
		}
	}
	if body.DisplayName == nil { // nothing to change; the device must exist
		if _, err := a.users.QueryDevice(req.Context(), matrixid.UserID(dev.UserID), deviceID); err != nil {
			return a.userError(err, "get device")
		}
		return httputil.Empty()
	}
	if len(*body.DisplayName) > maxDeviceNameBytes {
		return httputil.InvalidParam("display_name is longer than %d bytes", maxDeviceNameBytes)
	}
	if err := a.users.SetDeviceDisplayName(req.Context(), matrixid.UserID(dev.UserID), deviceID, *body.DisplayName); err != nil {
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
	// The spec's 404 for a device the user does not have (someone else's
	// included), before asking for authentication.
	id := req.PathValue("deviceId")
	if _, err := a.users.QueryDevice(req.Context(), matrixid.UserID(dev.UserID), id); err != nil {
		return a.userError(err, "delete device")
	}
	return a.removeDevices(req, dev, body.Auth, []string{id})
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
	// Appservices manage their users' devices without UIA (they have no passwords).
	session := ""
	if dev.AppserviceID == "" {
		var challenge *httputil.JSONResponse
		if session, challenge = a.uia.Authenticate(req, auth, uia.PasswordOp("delete_devices", dev.UserID)); challenge != nil {
			return *challenge
		}
	}
	if err := a.users.DeleteDevices(req.Context(), matrixid.UserID(dev.UserID), ids); err != nil {
		return a.userError(err, "delete devices")
	}
	if session != "" {
		a.uia.Finish(session)
	}
	return httputil.Empty()
}

// createAppserviceDevice makes deviceID for an appservice's user if it
// does not exist yet (true when it did so). The device gets an access
// token like any login, which nobody is told: the appservice acts on it
// with its as_token and device_id.
func (a *accountRoutes) createAppserviceDevice(req *http.Request, dev *uapi.Device, deviceID string, name *string) (bool, *httputil.JSONResponse) {
	_, err := a.users.QueryDevice(req.Context(), matrixid.UserID(dev.UserID), deviceID)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, uapi.ErrNotFound) {
		r := a.userError(err, "get device")
		return false, &r
	}
	if !validDeviceID(deviceID) {
		r := httputil.InvalidParam("device_id must be 1-255 bytes without spaces or control characters")
		return false, &r
	}
	display := ""
	if name != nil {
		if len(*name) > maxDeviceNameBytes {
			r := httputil.InvalidParam("display_name is longer than %d bytes", maxDeviceNameBytes)
			return false, &r
		}
		display = *name
	}
	if _, err := a.users.Login(req.Context(), uapi.LoginRequest{UserID: dev.UserID, DeviceID: deviceID, DisplayName: display,
		IP: httputil.ClientIP(req), UserAgent: req.UserAgent()}); err != nil {
		r := a.userError(err, "create appservice device")
		return false, &r
	}
	return true, nil
}
