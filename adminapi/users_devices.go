package adminapi

import (
	"net/http"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
)

// maxDeviceIDs bounds one delete_devices request.
const maxDeviceIDs = 1000

// listDevices: GET /_synapse/admin/v2/users/{userId}/devices.
func (a *AdminAPI) listDevices(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	acc, e := a.existingUser(req)
	if e != nil {
		return *e
	}
	userID := acc.UserID
	devs, err := a.users.QueryDevices(req.Context(), matrixid.UserID(userID))
	if err != nil {
		return a.fail(err, "list devices")
	}
	return httputil.OK(map[string]any{"devices": nonNil(devs), "total": len(devs)})
}

// getDevice: GET /_synapse/admin/v2/users/{userId}/devices/{deviceId}.
func (a *AdminAPI) getDevice(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	dev, err := a.users.QueryDevice(req.Context(), matrixid.UserID(userID), req.PathValue("deviceId"))
	if err != nil {
		return a.fail(err, "get device")
	}
	return httputil.OK(dev)
}

// putDevice: PUT /_synapse/admin/v2/users/{userId}/devices/{deviceId} {display_name}.
func (a *AdminAPI) putDevice(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	var body struct {
		DisplayName *string `json:"display_name"`
	}
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	if body.DisplayName == nil {
		return httputil.Empty()
	}
	if len(*body.DisplayName) > 255 {
		return httputil.InvalidParam("display_name is at most 255 bytes")
	}
	if err := a.users.SetDeviceDisplayName(req.Context(), matrixid.UserID(userID), req.PathValue("deviceId"), *body.DisplayName); err != nil {
		return a.fail(err, "rename device")
	}
	return httputil.Empty()
}

// deleteDevice: DELETE /_synapse/admin/v2/users/{userId}/devices/{deviceId}
// (logs the device out; an unknown device is no error).
func (a *AdminAPI) deleteDevice(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	if err := a.users.DeleteDevices(req.Context(), matrixid.UserID(userID), []string{req.PathValue("deviceId")}); err != nil {
		return a.fail(err, "delete device")
	}
	return httputil.Empty()
}

// deleteDevices: POST /_synapse/admin/v2/users/{userId}/delete_devices {devices}.
func (a *AdminAPI) deleteDevices(req *http.Request, _ *httputil.Device) httputil.JSONResponse {
	userID, e := a.localUser(req)
	if e != nil {
		return *e
	}
	var body struct {
		Devices []string `json:"devices"`
	}
	if e := httputil.DecodeJSON(req, &body); e != nil {
		return *e
	}
	if body.Devices == nil {
		return httputil.MissingParam("devices is required")
	}
	if len(body.Devices) > maxDeviceIDs {
		return httputil.InvalidParam("at most %d devices at a time", maxDeviceIDs)
	}
	if err := a.users.DeleteDevices(req.Context(), matrixid.UserID(userID), body.Devices); err != nil {
		return a.fail(err, "delete devices")
	}
	return httputil.Empty()
}

// nonNil makes a nil slice encode as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
