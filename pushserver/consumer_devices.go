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
func (p *PushServer) startDeviceConsumer(ctx, runCtx context.Context) error {
	st, err := p.base.Stream(ctx, stream.UserDevices)
	if err != nil {
		return err
	}
	seq, err := p.db.ConsumerSeq(ctx, stream.UserDevices)
	if err != nil {
		return fmt.Errorf("pushserver %s position: %w", stream.UserDevices, err)
	}
	done, err := st.ConsumeBatch(runCtx, "pushserver", seq, stream.BatchOptions{DeadLetter: p.db.DeadLetterer(stream.UserDevices)}, p.onDeviceChanges)
	if err != nil {
		return err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		<-done
	}()
	return nil
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
	for _, k := range removed {
		p.del.remove(k)
	}
	return nil
}
