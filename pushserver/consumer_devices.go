package pushserver

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/pushserver/storage"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// startDeviceConsumer follows the userapi's user_devices stream: a
// deleted device (logout, device deletion, deactivation) takes the
// pushers it created with it, so a signed-out phone gets no more pushes.
func (p *PushServer) startDeviceConsumer(ctx, runCtx context.Context) (<-chan struct{}, error) {
	st, err := p.base.Stream(ctx, stream.UserDevices)
	if err != nil {
		return nil, err
	}
	seq, err := p.db.ConsumerSeq(ctx, stream.UserDevices)
	if err != nil {
		return nil, fmt.Errorf("pushserver %s position: %w", stream.UserDevices, err)
	}
	deadLetter := p.db.DeadLetterer(stream.UserDevices)
	if p.replica != nil {
		deadLetter = p.replica.w.DeadLetterer(deadLetter)
	}
	return st.ConsumeBatch(runCtx, "pushserver", seq, stream.BatchOptions{DeadLetter: deadLetter}, p.onDeviceChanges)
}

func (p *PushServer) onDeviceChanges(ctx context.Context, msgs []stream.Message) error {
	changes := make([]storage.DeviceChange, 0, len(msgs))
	for _, msg := range msgs {
		var c uapi.OutputDeviceChange
		if err := json.Unmarshal(msg.Data, &c); err != nil {
			// Dead-lettered (the batch is applied again message by message).
			return stream.Poison(fmt.Errorf("malformed user_devices message (seq %d): %w", msg.Seq, err))
		}
		changes = append(changes, storage.DeviceChange{UserID: c.UserID, DeviceIDs: c.DeletedDeviceIDs})
	}
	removed, err := p.db.DeleteDevicePushers(ctx, changes, stream.UserDevices, msgs[len(msgs)-1].Seq)
	if err != nil {
		return err
	}
	if del := p.del.Load(); del != nil {
		for _, k := range removed {
			del.remove(k)
		}
	}
	return nil
}
