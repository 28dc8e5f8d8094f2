package roomserver

import (
	"context"
	"encoding/json"
	"time"

	"github.com/axon-hs/axon/roomserver/api"
)

// publish writes a committed batch's outputs to the room_events stream in
// order. The room's worker does not take the next batch until this
// returns, which keeps per-room order on the stream.
func (r *RoomServer) publish(roomID string, outputs []api.OutputEvent) {
	for i := range outputs {
		data, err := json.Marshal(&outputs[i])
		if err != nil {
			r.log.Error("encode output event", "room_id", roomID, "error", err)
			continue
		}
		headers := map[string]string{"room_id": roomID}
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err = r.out.Publish(ctx, data, headers)
			cancel()
			if err == nil {
				break
			}
			if attempt >= 5 {
				// TODO: an outbox table replayed on start would make this
				// durable across a NATS outage; for now it is logged.
				r.log.Error("publish output event", "room_id", roomID, "error", err)
				break
			}
			time.Sleep(time.Duration(50<<attempt) * time.Millisecond)
		}
	}
}
