package keyserver

import (
	"context"
	"encoding/json"
	"time"

	"github.com/axon-hs/axon/internal/outbox"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/keyserver/api"
)

// defaultSendWait bounds how long a request waits for its announcement
// to be published. After that it is answered anyway: the outbox
// publishes the committed update when the log is back.
const defaultSendWait = 3 * time.Second

// commit runs write in one transaction together with the device list
// updates it returns, which go to the outbox and are published after the
// commit. Callers hold the affected users' locks, so each user's updates
// reach the stream in stream ID order.
func (k *Keyserver) commit(ctx context.Context, write func(tx *istorage.Tx) ([]api.DeviceListUpdate, error)) error {
	staged, err := k.stageTx(ctx, write)
	if err != nil {
		return err
	}
	k.send(ctx, staged)
	return nil
}

// stageTx is commit without the publication.
func (k *Keyserver) stageTx(ctx context.Context, write func(tx *istorage.Tx) ([]api.DeviceListUpdate, error)) ([]outbox.Entry, error) {
	var staged []outbox.Entry
	err := k.db.WriteTx(ctx, func(tx *istorage.Tx) error {
		staged = staged[:0] // the transaction may be run again
		updates, err := write(tx)
		if err != nil {
			return err
		}
		for _, u := range updates {
			// Even a first change names its predecessor (0): an empty
			// prev_id is left to whole-list announcements on join.
			if u.StreamID >= 1 && u.PrevID == nil {
				u.PrevID = []int64{u.StreamID - 1}
			}
			data, err := json.Marshal(u)
			if err != nil {
				return err
			}
			entries, err := k.outbox.Stage(ctx, tx, u.UserID, data)
			if err != nil {
				return err
			}
			staged = append(staged, entries...)
		}
		return nil
	})
	return staged, err
}

// send publishes committed updates, waiting a little for the log.
func (k *Keyserver) send(ctx context.Context, staged []outbox.Entry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.sendWait)
	defer cancel()
	if err := k.outbox.Send(ctx, staged); err != nil {
		k.log.Warn("device list update not yet published; the outbox retries", "error", err)
	}
}
