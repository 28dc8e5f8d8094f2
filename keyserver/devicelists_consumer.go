package keyserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/axon-hs/axon/internal/setup"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// consumeDeviceChanges follows the userapi's user_devices stream: keys of
// deleted devices are forgotten and the user's new device list announced
// at once, rather than when someone next queries the user's keys; a
// renamed device with keys is announced with its new name.
// It runs until runCtx ends (the channel closes then); with several
// keyserver processes, only in the writer (keyserver.go).
func (k *Keyserver) consumeDeviceChanges(ctx, runCtx context.Context, base *setup.Base) (<-chan struct{}, error) {
	st, err := base.Stream(ctx, stream.UserDevices)
	if err != nil {
		return nil, err
	}
	seq, err := k.db.ConsumerSeq(ctx, stream.UserDevices)
	if err != nil {
		return nil, fmt.Errorf("keyserver %s position: %w", stream.UserDevices, err)
	}
	deadLetter := k.db.DeadLetterer(stream.UserDevices)
	if k.writer != nil {
		deadLetter = k.writer.DeadLetterer(deadLetter)
	}
	return st.Consume(runCtx, "keyserver", seq, deadLetter, k.onDeviceChange)
}

// onDeviceChange applies one message, recording its position in the same
// transaction as the deletion and its announcement.
func (k *Keyserver) onDeviceChange(ctx context.Context, msg stream.Message) error {
	var c uapi.OutputDeviceChange
	if err := json.Unmarshal(msg.Data, &c); err != nil {
		return stream.Poison(fmt.Errorf("malformed user_devices message: %w", err))
	}
	if !k.isLocal(c.UserID) {
		k.log.Error("user_devices message for another server's user; skipping", "seq", msg.Seq, "user_id", c.UserID)
		return k.db.WriteTx(ctx, func(tx *istorage.Tx) error {
			return k.db.SetConsumerSeq(ctx, tx, stream.UserDevices, msg.Seq)
		})
	}
	defer k.lockUser(c.UserID).Unlock()
	defer k.forgetCounts(c.UserID, c.DeletedDeviceIDs...)
	staged, err := k.stageTx(ctx, func(tx *istorage.Tx) ([]api.DeviceListUpdate, error) {
		updates, err := k.deleteKeys(ctx, tx, c.UserID, c.DeletedDeviceIDs)
		if err != nil {
			return nil, err
		}
		if c.RenamedDeviceID != "" {
			// A renamed device with keys is a device list change: other
			// servers show the name with the keys.
			keys, streamID, err := k.db.TouchDevice(ctx, tx, c.UserID, c.RenamedDeviceID)
			if err != nil {
				return nil, err
			}
			if streamID != 0 {
				updates = append(updates, api.DeviceListUpdate{UserID: c.UserID, DeviceID: c.RenamedDeviceID,
					DisplayName: c.DisplayName, StreamID: streamID, Keys: keys})
			}
		}
		return updates, k.db.SetConsumerSeq(ctx, tx, stream.UserDevices, msg.Seq)
	})
	if err != nil {
		return err
	}
	k.send(ctx, staged)
	return nil
}
