package appservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/axon-hs/axon/appservice/storage"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/internal/stream"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	syncapi "github.com/axon-hs/axon/syncapi/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// itemsFunc turns one stream message into queue items.
type itemsFunc func(ctx context.Context, data []byte) ([]storage.Item, error)

// consumeInto is the batch handler of an ephemeral stream: like room
// events, items and position commit together.
func (c *Component) consumeInto(streamName string, f itemsFunc) stream.BatchHandler {
	return func(ctx context.Context, msgs []stream.Message) error {
		var items []storage.Item
		for _, msg := range msgs {
			got, err := f(ctx, msg.Data)
			if err != nil {
				return err
			}
			items = append(items, got...)
		}
		return c.queue(ctx, streamName, msgs[len(msgs)-1].Seq, items)
	}
}

// malformed marks a message that can never be applied, so the consumer
// dead-letters it at once and goes on.
func malformed(what string, err error) error {
	return stream.Poison(fmt.Errorf("malformed %s: %w", what, err))
}

func wantsEphemeral(a *config.AppService) bool { return a.WantsEphemeral() }

// ephemeralItems marshals body once for each appservice.
func ephemeralItems(apps []*config.AppService, kind string, body any) ([]storage.Item, error) {
	if len(apps) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	items := make([]storage.Item, len(apps))
	for i, a := range apps {
		items[i] = storage.Item{AppserviceID: a.ID, Kind: kind, Body: data}
	}
	return items, nil
}

// typingRooms remembers who types where, since m.typing carries the
// whole list and the stream carries single changes.
type typingRooms struct {
	mu    sync.Mutex
	rooms map[string]map[string]time.Time // room → user → expiry
}

func (t *typingRooms) apply(ev syncapi.OutputTyping) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rooms == nil {
		t.rooms = map[string]map[string]time.Time{}
	}
	users := t.rooms[ev.RoomID]
	if users == nil {
		users = map[string]time.Time{}
		t.rooms[ev.RoomID] = users
	}
	now := time.Now()
	if ev.Typing {
		timeout := time.Duration(ev.TimeoutMS) * time.Millisecond
		if timeout <= 0 || timeout > 2*time.Minute {
			timeout = 30 * time.Second
		}
		users[ev.UserID] = now.Add(timeout)
	} else {
		delete(users, ev.UserID)
	}
	out := []string{}
	for u, exp := range users {
		if exp.After(now) {
			out = append(out, u)
		} else {
			delete(users, u)
		}
	}
	if len(users) == 0 {
		delete(t.rooms, ev.RoomID)
	}
	sort.Strings(out)
	return out
}

func (c *Component) typingItems(ctx context.Context, data []byte) ([]storage.Item, error) {
	var ev syncapi.OutputTyping
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, malformed("typing message", err)
	}
	userIDs := c.typing.apply(ev)
	apps, err := c.interest.forRoom(ctx, ev.RoomID, ev.UserID, wantsEphemeral)
	if err != nil {
		return nil, err
	}
	return ephemeralItems(apps, storage.KindEphemeral, map[string]any{
		"type": matrixrules.MTyping, "room_id": ev.RoomID, "content": map[string]any{"user_ids": userIDs},
	})
}

func (c *Component) receiptItems(ctx context.Context, data []byte) ([]storage.Item, error) {
	var ev syncapi.OutputReceipt
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, malformed("receipt message", err)
	}
	private := ev.Type == "m.read.private"
	apps, err := c.interest.forRoom(ctx, ev.RoomID, ev.UserID, func(a *config.AppService) bool {
		// Private receipts only reach the appservice owning the reader.
		return a.WantsEphemeral() && (!private || c.interest.userInterested(a, ev.UserID))
	})
	if err != nil {
		return nil, err
	}
	receipt := map[string]any{"ts": ev.TS}
	if ev.ThreadID != "" {
		receipt["thread_id"] = ev.ThreadID
	}
	return ephemeralItems(apps, storage.KindEphemeral, map[string]any{
		"type": matrixrules.MReceipt, "room_id": ev.RoomID,
		"content": map[string]any{ev.EventID: map[string]any{ev.Type: map[string]any{ev.UserID: receipt}}},
	})
}

func (c *Component) presenceItems(ctx context.Context, data []byte) ([]storage.Item, error) {
	var ev syncapi.OutputPresence
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, malformed("presence message", err)
	}
	apps, err := c.presenceApps(ctx, ev.UserID)
	if err != nil {
		return nil, err
	}
	content := map[string]any{"presence": ev.Presence, "currently_active": ev.CurrentlyActive}
	if ev.LastActiveTS > 0 {
		content["last_active_ago"] = max(time.Now().UnixMilli()-ev.LastActiveTS, 0)
	}
	if ev.StatusMsg != nil {
		content["status_msg"] = *ev.StatusMsg
	}
	return ephemeralItems(apps, storage.KindEphemeral, map[string]any{"type": matrixrules.MPresence, "sender": ev.UserID, "content": content})
}

// presenceApps: the appservices owning the user or sharing a room with it.
func (c *Component) presenceApps(ctx context.Context, userID string) ([]*config.AppService, error) {
	return c.appsSharingUser(ctx, userID, wantsEphemeral)
}

// appsSharingUser lists the appservices (among those only allows) that own
// userID or have one of their users joined to a room with it.
func (c *Component) appsSharingUser(ctx context.Context, userID string, only func(*config.AppService) bool) ([]*config.AppService, error) {
	var out []*config.AppService
	pending := map[*config.AppService]bool{}
	for _, a := range c.interest.apps {
		if !only(a) {
			continue
		}
		if c.interest.userInterested(a, userID) {
			out = append(out, a)
		} else {
			pending[a] = true
		}
	}
	if len(pending) == 0 {
		return out, nil
	}
	rooms, err := c.interest.rooms.QueryRoomsForUser(ctx, matrixid.UserID(userID), "join")
	if err != nil {
		return nil, err
	}
	for _, roomID := range rooms {
		info, err := c.interest.room(ctx, string(roomID))
		if err != nil {
			return nil, err
		}
		for a := range pending {
			if c.interest.roomInterested(a, string(roomID), info) {
				out = append(out, a)
				delete(pending, a)
			}
		}
		if len(pending) == 0 {
			break
		}
	}
	return out, nil
}

// toDeviceItems queues a to-device message for the appservice owning its
// recipient (MSC4203), one item per device ("*" is every device).
func (c *Component) toDeviceItems(ctx context.Context, data []byte) ([]storage.Item, error) {
	var ev syncapi.OutputSendToDevice
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, malformed("to-device message", err)
	}
	var apps []*config.AppService
	for _, a := range c.interest.apps {
		if a.WantsToDevice() && c.interest.userInterested(a, ev.UserID) {
			apps = append(apps, a)
		}
	}
	if len(apps) == 0 {
		return nil, nil
	}
	devices := []string{ev.DeviceID}
	if ev.DeviceID == "*" {
		infos, err := c.users.QueryDevices(ctx, matrixid.UserID(ev.UserID))
		if errors.Is(err, uapi.ErrNotFound) {
			return nil, nil // no such user: nothing to deliver
		}
		if err != nil {
			return nil, err
		}
		devices = devices[:0]
		for _, d := range infos {
			devices = append(devices, d.DeviceID)
		}
	}
	var items []storage.Item
	for _, d := range devices {
		got, err := ephemeralItems(apps, storage.KindToDevice, map[string]any{
			"type": ev.Type, "sender": ev.Sender, "content": ev.Content, "to_user_id": ev.UserID, "to_device_id": d,
		})
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
	}
	return items, nil
}

// deviceListItems queues a device list change (MSC3202) for the
// appservices that own the user or share a room with it.
func (c *Component) deviceListItems(ctx context.Context, data []byte) ([]storage.Item, error) {
	var ev ksapi.DeviceListUpdate
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, malformed("device list update", err)
	}
	if ev.UserID == "" {
		return nil, malformed("device list update", errors.New("no user_id"))
	}
	apps, err := c.appsSharingUser(ctx, ev.UserID, func(a *config.AppService) bool { return a.MSC3202 })
	if err != nil {
		return nil, err
	}
	return ephemeralItems(apps, storage.KindDeviceList, ev.UserID)
}
