package appservice

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/appservice/storage"
	"github.com/axon-hs/axon/internal/config"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// onRoomEvents queues each new room event for the appservices interested
// in it, in one transaction with the stream position: nothing is lost
// or queued twice across restarts.
func (c *Component) onRoomEvents(ctx context.Context, msgs []stream.Message) error {
	var items []storage.Item
	for _, msg := range msgs {
		var out rsapi.OutputEvent
		if err := rsapi.DecodeOutput(msg.Data, &out); err != nil {
			return malformed("room event output", err)
		}
		if out.Type != rsapi.OutputTypeNewRoomEvent || out.NewRoomEvent == nil {
			continue // redactions arrive as their own event; backfill is history
		}
		got, err := c.itemsForEvent(ctx, out.NewRoomEvent)
		if err != nil {
			return err
		}
		items = append(items, got...)
	}
	return c.queue(ctx, stream.RoomEvents, msgs[len(msgs)-1].Seq, items)
}

// queue stores items and the stream position in one transaction, then
// wakes the senders concerned.
func (c *Component) queue(ctx context.Context, streamName string, seq uint64, items []storage.Item) error {
	err := c.db.WriteTx(ctx, func(tx *istorage.Tx) error {
		if err := c.db.Enqueue(ctx, tx, items); err != nil {
			return err
		}
		return c.db.SetConsumerSeq(ctx, tx, streamName, seq)
	})
	if err != nil {
		return err
	}
	c.notify(items)
	return nil
}

func (c *Component) itemsForEvent(ctx context.Context, ore *rsapi.OutputNewRoomEvent) ([]storage.Item, error) {
	ev, err := rsapi.ParseEvent(ore.RoomVersion, ore.Event)
	if err != nil {
		return nil, malformed("event "+ore.EventID+" in room event output", err)
	}
	if ore.StateDelta != nil && c.interest.follows(ore.RoomID) { // else observing it changes nothing
		if err := ore.FetchStateDelta(ctx, c.interest.rooms); err != nil {
			return nil, err
		}
	}
	for i := range ore.AddedStateEvents { // state learned from elsewhere (joins over federation)
		if st, err := ore.ParseAddedStateEvent(i); err == nil {
			c.interest.observe(ore.RoomID, st.Type(), st.StateKey(), st.Content())
		}
	}
	c.interest.observe(ore.RoomID, ev.Type(), ev.StateKey(), ev.Content())
	apps, err := c.interest.forEvent(ctx, ore.RoomID, string(ev.SenderID()), ev.StateKey(), ev.Type())
	if err != nil || len(apps) == 0 {
		return nil, err
	}
	body, err := json.Marshal(rsapi.ToClientEvent(ev.PDU, rsapi.FormatOptions{}))
	if err != nil {
		return nil, err
	}
	items := make([]storage.Item, len(apps))
	for i, a := range apps {
		items[i] = storage.Item{AppserviceID: a.ID, Kind: storage.KindEvent, Body: body}
	}
	left, err := c.deviceListsLeft(ctx, ev, apps)
	return append(items, left...), err
}

// deviceListsLeft: when a user leaves a room, the MSC3202 appservices
// interested in it that no longer share any room with the user are told
// to stop tracking the user's devices.
func (c *Component) deviceListsLeft(ctx context.Context, ev *rsapi.Event, apps []*config.AppService) ([]storage.Item, error) {
	sk := ev.StateKey()
	if ev.Type() != spec.MRoomMember || sk == nil || c.interest.owned(*sk) {
		return nil, nil
	}
	if m := gjson.GetBytes(ev.Content(), "membership").Str; m != "leave" && m != "ban" {
		return nil, nil
	}
	var candidates []*config.AppService
	for _, a := range apps {
		if a.MSC3202 {
			candidates = append(candidates, a)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	sharing, err := c.appsSharingUser(ctx, *sk, func(a *config.AppService) bool { return slices.Contains(candidates, a) })
	if err != nil {
		return nil, err
	}
	var gone []*config.AppService
	for _, a := range candidates {
		if !slices.Contains(sharing, a) {
			gone = append(gone, a)
		}
	}
	return ephemeralItems(gone, storage.KindDeviceListLeft, *sk)
}

// notify wakes the senders of the appservices that got items.
func (c *Component) notify(items []storage.Item) {
	for _, it := range items {
		if s := c.senders[it.AppserviceID]; s != nil {
			signal(s.queued)
		}
	}
}
