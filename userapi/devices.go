package userapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"

	"github.com/axon-hs/axon/userapi/api"
	"github.com/axon-hs/axon/userapi/storage"
)

func (u *UserAPI) deviceInfo(d storage.Device) api.DeviceInfo {
	info := api.DeviceInfo{
		UserID: u.userID(d.Localpart), DeviceID: d.DeviceID, DisplayName: d.DisplayName,
		LastSeenTS: d.LastSeenTS, LastSeenIP: d.LastSeenIP, LastSeenUserAgent: d.LastSeenUserAgent,
	}
	if s, ok := u.lastSeen.overlay(d.Localpart, d.DeviceID); ok && s.TS >= info.LastSeenTS {
		info.LastSeenTS, info.LastSeenIP, info.LastSeenUserAgent = s.TS, s.IP, s.UserAgent
	}
	return info
}

// QueryDevices implements api.UserAPI.
func (u *UserAPI) QueryDevices(ctx context.Context, userID matrixid.UserID) ([]api.DeviceInfo, error) {
	local, err := u.localpart(string(userID))
	if err != nil {
		return nil, err
	}
	devs, err := u.db.Devices(ctx, local)
	if err != nil {
		return nil, err
	}
	out := make([]api.DeviceInfo, 0, len(devs))
	for _, d := range devs {
		out = append(out, u.deviceInfo(d))
	}
	return out, nil
}

// QueryDevice implements api.UserAPI.
func (u *UserAPI) QueryDevice(ctx context.Context, userID matrixid.UserID, deviceID string) (*api.DeviceInfo, error) {
	local, err := u.localpart(string(userID))
	if err != nil {
		return nil, err
	}
	d, err := u.db.Device(ctx, local, deviceID)
	if errors.Is(err, istorage.ErrNotFound) {
		return nil, fmt.Errorf("%w: no device %s", api.ErrNotFound, deviceID)
	}
	if err != nil {
		return nil, err
	}
	info := u.deviceInfo(*d)
	return &info, nil
}

// SetDeviceDisplayName implements api.UserAPI.
func (u *UserAPI) SetDeviceDisplayName(ctx context.Context, userID matrixid.UserID, deviceID, displayName string) error {
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	userID = matrixid.UserID(u.userID(local))
	var staged []outbox.Entry
	err = u.db.SetDeviceDisplayName(ctx, local, deviceID, displayName, func(tx *istorage.Tx) error {
		data, err := json.Marshal(api.OutputDeviceChange{UserID: string(userID), RenamedDeviceID: deviceID, DisplayName: displayName})
		if err != nil {
			return err
		}
		staged, err = u.outbox.Stage(ctx, tx, string(userID), data)
		return err
	})
	if errors.Is(err, istorage.ErrNotFound) {
		return fmt.Errorf("%w: no device %s", api.ErrNotFound, deviceID)
	}
	if err == nil {
		u.tokens.invalidateDevice(local, deviceID) // cached Device carries the name
		u.outbox.Enqueue(staged)                   // the keyserver announces the new name
	}
	return err
}

// DeleteDevices implements api.UserAPI.
func (u *UserAPI) DeleteDevices(ctx context.Context, userID matrixid.UserID, deviceIDs []string) error {
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	d := u.deletion(ctx, local)
	if err := u.db.DeleteDevices(ctx, local, deviceIDs, d.stage); err != nil {
		return err
	}
	for _, id := range deviceIDs {
		u.tokens.invalidateDevice(local, id)
	}
	d.send()
	return nil
}

// DeleteAllDevices implements api.UserAPI.
func (u *UserAPI) DeleteAllDevices(ctx context.Context, userID matrixid.UserID, exceptDeviceID string) error {
	local, err := u.localpart(string(userID))
	if err != nil {
		return err
	}
	d := u.deletion(ctx, local)
	if err := u.db.DeleteDevicesExcept(ctx, local, exceptDeviceID, d.stage); err != nil {
		return err
	}
	u.tokens.invalidateUserExcept(local, exceptDeviceID)
	d.send()
	return nil
}

// deviceDeletion announces one deletion on the user_devices stream: the
// message is staged in the outbox inside the deletion's transaction
// (stage is a storage.OnDeleted) and published after the commit (send),
// so the keyserver hears of every deleted device even if the log is down
// at that moment.
type deviceDeletion struct {
	u      *UserAPI
	ctx    context.Context
	userID string
	staged []outbox.Entry
}

func (u *UserAPI) deletion(ctx context.Context, local string) *deviceDeletion {
	return &deviceDeletion{u: u, ctx: ctx, userID: u.userID(local)}
}

func (d *deviceDeletion) stage(tx *istorage.Tx, deleted []string) error {
	d.staged = nil // the transaction may be run again
	if len(deleted) == 0 {
		return nil
	}
	data, err := json.Marshal(api.OutputDeviceChange{UserID: d.userID, DeletedDeviceIDs: deleted})
	if err != nil {
		return err
	}
	d.staged, err = d.u.outbox.Stage(d.ctx, tx, d.userID, data)
	return err
}

// send hands the committed message to the publisher and waits for it a
// little (deletionPublishWait), so what follows the deletion (the
// pushers' removal, GET /pushers right after a password change) sees it;
// a log that is slow or down delays a logout by no more than that.
func (d *deviceDeletion) send() {
	wait, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), deletionPublishWait)
	defer cancel()
	if err := d.u.outbox.Send(wait, d.staged); err != nil {
		d.u.base.Log.Info("device deletion not yet published; the outbox will publish it", "user_id", d.userID, "error", err)
	}
}

// deletionPublishWait bounds how long a device deletion waits for the log.
const deletionPublishWait = time.Second
