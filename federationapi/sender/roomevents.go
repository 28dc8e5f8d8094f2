package sender

import (
	"context"
	"fmt"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// ConsumerName is this consumer's position key (and stream consumer name).
const ConsumerName = "federationapi_room_events"

// EventQuerier is the part of the roomserver the consumer needs (to read
// state events the stream names only by ID).
type EventQuerier interface {
	QueryEvents(ctx context.Context, eventIDs []matrixid.EventID) ([]*rsapi.Event, error)
	// QueryStateDelta reads a state change too big for its output.
	rsapi.StateDeltaQuerier
}

// RoomEvents applies the roomserver's output: it keeps the servers joined
// to each room from the state deltas, and queues every locally-originated
// event for the other servers in the room.
type RoomEvents struct {
	Store  *storage.DB
	Rooms  EventQuerier
	Sender *Sender
	// BacklogUntil: messages up to this sequence only update joined
	// servers. Set on a first start so enabling federation on an
	// existing server does not send its whole history.
	BacklogUntil uint64
	// LocalJoined, if set, is called once a local user's join (from a
	// membership other than join) is applied, with the room's servers
	// up to date.
	LocalJoined func(ctx context.Context, roomID, userID string)
	// DeadLetter records messages given up on (nil: in Store).
	DeadLetter stream.DeadLetterFunc

	// unsaved counts messages applied without storing the position
	// (Handle runs one message at a time).
	unsaved int
}

// positionEvery: outputs that change nothing here (another server's
// event that is no membership change) are not worth a write transaction
// each, the consumer's only one per inbound event; the position is
// stored at least every positionEvery of them, so a restart re-reads at
// most that many, harmlessly.
const positionEvery = 100

// Start consumes s from the stored position.
func (c *RoomEvents) Start(ctx context.Context, s *stream.Stream) (<-chan struct{}, error) {
	pos, err := c.Store.Position(ctx, ConsumerName)
	if err != nil {
		return nil, err
	}
	if pos == 0 {
		if c.BacklogUntil, err = s.LastSeq(ctx); err != nil {
			return nil, err
		}
	}
	dl := c.DeadLetter
	if dl == nil {
		dl = c.Store.DeadLetterer(ConsumerName)
	}
	return s.Consume(ctx, ConsumerName, pos, dl, c.Handle)
}

// Handle applies one stream message; the queue rows, joined-server
// changes and the new position commit together.
func (c *RoomEvents) Handle(ctx context.Context, msg stream.Message) error {
	var out rsapi.OutputEvent
	if err := rsapi.DecodeOutput(msg.Data, &out); err != nil {
		// Undecodable output can never apply: dead-letter it.
		return stream.Poison(fmt.Errorf("malformed room event output: %w", err))
	}
	if out.Type == rsapi.OutputTypePurgeRoom && out.PurgeRoom != nil {
		return c.Store.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
			if err := c.Store.ForgetRoom(ctx, tx, out.PurgeRoom.RoomID); err != nil {
				return err
			}
			return c.Store.SetPosition(ctx, tx, ConsumerName, msg.Seq)
		})
	}
	ev := out.NewRoomEvent
	if out.Type != rsapi.OutputTypeNewRoomEvent || ev == nil {
		return c.Store.DB.WriteTx(ctx, func(tx *istorage.Tx) error { return c.Store.SetPosition(ctx, tx, ConsumerName, msg.Seq) })
	}
	if err := ev.FetchStateDelta(ctx, c.Rooms); err != nil {
		return err
	}
	joins, err := c.addedJoins(ctx, ev)
	if err != nil {
		return err
	}
	local := msg.Seq > c.BacklogUntil && c.isLocal(ev)
	if !local && len(joins) == 0 && len(ev.RemovesStateEventIDs) == 0 {
		if c.unsaved++; c.unsaved < positionEvery {
			return nil
		}
	}
	c.unsaved = 0
	var dests []string
	err = c.Store.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var before []string
		if local {
			if before, err = c.Store.JoinedServers(ctx, tx, ev.RoomID); err != nil {
				return err
			}
		}
		if err := c.Store.RemoveJoined(ctx, tx, ev.RoomID, ev.RemovesStateEventIDs); err != nil {
			return err
		}
		for eventID, server := range joins {
			if err := c.Store.AddJoined(ctx, tx, ev.RoomID, eventID, server); err != nil {
				return err
			}
		}
		if local {
			after, err := c.Store.JoinedServers(ctx, tx, ev.RoomID)
			if err != nil {
				return err
			}
			// Servers that were or now are in the room: a leaving
			// server still needs to hear about its own leave.
			// The server of a membership's target hears of it even
			// when it is not in the room: a rescinded invite must reach
			// the invitee.
			if target := memberTargetServer(ev); target != "" {
				after = append(after, string(target))
			}
			dests = c.destinations(ctx, senderServer(ev), before, after)
			if err := c.Store.Enqueue(ctx, tx, dests, false, ev.Event); err != nil {
				return err
			}
		}
		return c.Store.SetPosition(ctx, tx, ConsumerName, msg.Seq)
	})
	if err != nil {
		return err
	}
	c.Sender.Notify(dests...)
	if c.LocalJoined != nil && msg.Seq > c.BacklogUntil && joins[ev.EventID] == string(c.Sender.cfg.Origin) {
		if userID := c.newJoiner(ctx, ev); userID != "" {
			c.LocalJoined(ctx, ev.RoomID, userID)
		}
	}
	return nil
}

// newJoiner is the user whose join ev is, unless they were joined
// already (a profile change).
func (c *RoomEvents) newJoiner(ctx context.Context, ev *rsapi.OutputNewRoomEvent) string {
	stateKey := gjson.GetBytes(ev.Event, "state_key")
	if stateKey.Type != gjson.String || stateKey.Str == "" {
		return ""
	}
	if len(ev.RemovesStateEventIDs) == 0 {
		return stateKey.Str
	}
	removed, err := c.Rooms.QueryEvents(ctx, matrixid.From[matrixid.EventID](ev.RemovesStateEventIDs))
	if err != nil {
		return ""
	}
	for _, r := range removed {
		if r.Type() == spec.MRoomMember && r.StateKeyEquals(stateKey.Str) {
			if m, _ := r.Membership(); m == spec.Join {
				return ""
			}
		}
	}
	return stateKey.Str
}

// isLocal: did this server originate the event (so must federate it)?
func (c *RoomEvents) isLocal(ev *rsapi.OutputNewRoomEvent) bool {
	if ev.SendAsServer != "" {
		return spec.ServerName(ev.SendAsServer) == c.Sender.cfg.Origin
	}
	return senderServer(ev) == c.Sender.cfg.Origin
}

// memberTargetServer is the server of the user a leave or ban is about
// ("" for other events; invites travel through /invite).
func memberTargetServer(ev *rsapi.OutputNewRoomEvent) spec.ServerName {
	f := gjson.GetManyBytes(ev.Event, "type", "state_key", "content.membership")
	if f[0].Str != spec.MRoomMember || (f[2].Str != spec.Leave && f[2].Str != spec.Ban) {
		return ""
	}
	return userServer(f[1])
}

// senderServer is the server of the event's sender ("" if unreadable).
// Read with gjson: it runs for every output, and decoding the whole
// event for one field scanned and allocated for all of it.
func senderServer(ev *rsapi.OutputNewRoomEvent) spec.ServerName {
	return userServer(gjson.GetBytes(ev.Event, "sender"))
}

// userServer is the server of a user ID held in v ("" if v is not one).
func userServer(v gjson.Result) spec.ServerName {
	if v.Type != gjson.String {
		return ""
	}
	_, domain, err := gomatrixserverlib.SplitID('@', v.Str)
	if err != nil {
		return ""
	}
	return domain
}

// destinations are the servers to send an event to: those in the room
// before or after it, but not us nor the server whose user sent it (it
// has the event: we only relay it, from send_join or send_leave).
func (c *RoomEvents) destinations(ctx context.Context, origin spec.ServerName, before, after []string) []string {
	seen := map[string]bool{string(origin): origin != ""}
	var out []string
	for _, list := range [][]string{before, after} {
		for _, s := range list {
			if seen[s] || spec.ServerName(s) == c.Sender.cfg.Origin || c.Sender.IsBlacklisted(ctx, s) {
				continue
			}
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// addedJoins maps each join membership event entering current state to
// the server of the joined user. The events are read with gjson, not
// parsed: a join over federation adds a room's whole state.
func (c *RoomEvents) addedJoins(ctx context.Context, ev *rsapi.OutputNewRoomEvent) (map[string]string, error) {
	if len(ev.AddsStateEventIDs) == 0 {
		return nil, nil
	}
	known := make(map[string][]byte, len(ev.AddedStateEvents)+1)
	known[ev.EventID] = ev.Event
	if len(ev.AddedStateEventIDs) == len(ev.AddedStateEvents) { // else (older outputs) queried below
		for i, js := range ev.AddedStateEvents {
			known[ev.AddedStateEventIDs[i]] = js
		}
	}
	var missing []string
	for _, id := range ev.AddsStateEventIDs {
		if _, ok := known[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		events, err := c.Rooms.QueryEvents(ctx, matrixid.From[matrixid.EventID](missing))
		if err != nil {
			return nil, fmt.Errorf("query added state events: %w", err)
		}
		for _, e := range events {
			known[e.EventID()] = e.JSON()
		}
	}
	joins := map[string]string{}
	for _, id := range ev.AddsStateEventIDs {
		f := gjson.GetManyBytes(known[id], "type", "state_key", "content.membership")
		if f[0].Str != spec.MRoomMember || f[1].Type != gjson.String || f[2].Str != spec.Join {
			continue
		}
		if _, domain, err := gomatrixserverlib.SplitID('@', f[1].Str); err == nil {
			joins[id] = string(domain)
		}
	}
	return joins, nil
}
