package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/api"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// Remote ephemeral data: the federation receiver publishes other servers'
// typing, receipts, presence and to-device messages on the same streams
// syncapi publishes local changes to, with Origin set to the sending
// server. Local changes (Origin = us) were applied when made and are
// skipped here without a write; remote ones are applied with the stream
// position in the same transaction (receipts, presence, to-device), so a
// restart resumes where it stopped. Typing is in memory: it is read from
// the newest message on start, old typing notices being worthless.

// startEphemeralConsumers starts the consumers of the ephemeral streams
// kept in the database.
func (s *SyncAPI) startEphemeralConsumers(ctx, runCtx context.Context) ([]<-chan struct{}, error) {
	durable := []struct {
		name  string
		apply func(ctx context.Context, data []byte, seq uint64) error
	}{
		{stream.Receipts, s.applyRemoteReceipt},
		{stream.Presence, s.applyRemotePresence},
		{stream.SendToDevice, s.applyRemoteToDevice},
	}
	var dones []<-chan struct{}
	for _, d := range durable {
		seq, err := s.db.ConsumerSeq(ctx, d.name)
		if err != nil {
			return dones, fmt.Errorf("syncapi %s position: %w", d.name, err)
		}
		done, err := s.consumeRemote(runCtx, d.name, seq, d.apply)
		if err != nil {
			return dones, err
		}
		dones = append(dones, done)
	}
	return dones, nil
}

// consumeTyping follows remote typing (held in memory) from now on.
func (s *SyncAPI) consumeTyping(ctx, runCtx context.Context) error {
	last, err := s.streams[stream.Typing].LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("syncapi typing position: %w", err)
	}
	done, err := s.streams[stream.Typing].Consume(runCtx, "syncapi", last, s.deadLetterer(stream.Typing), func(ctx context.Context, msg stream.Message) error {
		origin, err := s.remoteOrigin(msg.Data)
		// Our own server's typing set through another syncapi replica
		// is news here too (replicas.go).
		if origin == "" && (err != nil || !s.fromOtherReplica(msg)) {
			return err
		}
		return s.applyRemoteTyping(ctx, msg.Data, msg.Seq)
	})
	if err != nil {
		return err
	}
	s.done = append(s.done, done)
	return nil
}

// remoteOrigin returns the message's origin, or "" when it is ours,
// which needs nothing done; an unreadable message is poison.
func (s *SyncAPI) remoteOrigin(data []byte) (string, error) {
	var m struct {
		Origin string `json:"origin"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", stream.Poison(fmt.Errorf("malformed ephemeral message: %w", err))
	}
	if m.Origin == s.base.Cfg.ServerName {
		return "", nil
	}
	return m.Origin, nil
}

// consumeRemote consumes name from afterSeq, handing remote messages to
// apply.
func (s *SyncAPI) consumeRemote(runCtx context.Context, name string, afterSeq uint64, apply func(ctx context.Context, data []byte, seq uint64) error) (<-chan struct{}, error) {
	return s.streams[name].Consume(runCtx, "syncapi", afterSeq, s.deadLetterer(name), func(ctx context.Context, msg stream.Message) error {
		if origin, err := s.remoteOrigin(msg.Data); origin == "" {
			return err
		}
		return apply(ctx, msg.Data, msg.Seq)
	})
}

// skipMsg records seq for a message that has no effect (malformed or not
// for us), so it is not read again after a restart.
func (s *SyncAPI) skipMsg(ctx context.Context, name string, seq uint64) error {
	return s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		return s.db.SetConsumerSeq(ctx, tx, name, seq)
	})
}

func (s *SyncAPI) applyRemoteTyping(_ context.Context, data []byte, _ uint64) error {
	var m api.OutputTyping
	if json.Unmarshal(data, &m) != nil || m.RoomID == "" || m.UserID == "" {
		return nil
	}
	timeout := time.Duration(m.TimeoutMS) * time.Millisecond
	if m.Typing && timeout <= 0 {
		timeout = 30 * time.Second
	}
	if pos := s.typing.Set(m.RoomID, m.UserID, m.Typing, min(timeout, 2*time.Minute)); pos > 0 {
		s.notif.WakeRoom(m.RoomID, func(t *types.StreamToken) { t.Typing = pos })
	}
	return nil
}

func (s *SyncAPI) applyRemoteReceipt(ctx context.Context, data []byte, seq uint64) error {
	var m api.OutputReceipt
	if json.Unmarshal(data, &m) != nil || m.RoomID == "" || m.UserID == "" || m.EventID == "" || m.Type != "m.read" {
		return s.skipMsg(ctx, stream.Receipts, seq)
	}
	// The receipt may arrive before the event it names: it then counts
	// as read up to now.
	eventPos := s.notif.Current().PDU
	ev, err := s.db.EventByID(ctx, nil, m.EventID)
	if err != nil {
		return err
	}
	if ev != nil {
		if ev.RoomID != m.RoomID {
			return s.skipMsg(ctx, stream.Receipts, seq)
		}
		eventPos = ev.Pos
	}
	r := storage.Receipt{RoomID: m.RoomID, Type: m.Type, UserID: m.UserID, ThreadID: m.ThreadID, EventID: m.EventID, EventPos: eventPos, TS: m.TS}
	var pos types.StreamPosition
	err = s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		if pos, err = s.db.UpsertReceipt(ctx, tx, r); err != nil {
			return err
		}
		return s.db.SetConsumerSeq(ctx, tx, stream.Receipts, seq)
	})
	if err != nil {
		return err
	}
	if pos > 0 {
		s.notif.WakeRoom(m.RoomID, func(t *types.StreamToken) { t.Receipt = pos })
	}
	return nil
}

func (s *SyncAPI) applyRemotePresence(ctx context.Context, data []byte, seq uint64) error {
	var m api.OutputPresence
	if !s.base.Cfg.Presence.Enabled || json.Unmarshal(data, &m) != nil || m.UserID == "" {
		return s.skipMsg(ctx, stream.Presence, seq)
	}
	// Only users someone here shares a room with are of interest.
	users := s.notif.UsersSharingRoom(m.UserID)
	if len(users) == 0 {
		return s.skipMsg(ctx, stream.Presence, seq)
	}
	p := storage.Presence{UserID: m.UserID, Presence: m.Presence, StatusMsg: m.StatusMsg, LastActiveTS: m.LastActiveTS, CurrentlyActive: m.CurrentlyActive}
	var pos types.StreamPosition
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		var err error
		if pos, err = s.db.UpsertPresence(ctx, tx, p); err != nil {
			return err
		}
		return s.db.SetConsumerSeq(ctx, tx, stream.Presence, seq)
	})
	if err != nil {
		return err
	}
	s.notif.Advance(func(t *types.StreamToken) { t.Presence = pos }, users...)
	return nil
}

func (s *SyncAPI) applyRemoteToDevice(ctx context.Context, data []byte, seq uint64) error {
	var m api.OutputSendToDevice
	// Messages from this server were stored when sent; they are on the
	// stream only for appservices.
	if json.Unmarshal(data, &m) != nil || m.Origin == s.base.Cfg.ServerName || !s.isLocal(m.UserID) || m.DeviceID == "" || m.Type == "" ||
		len(m.Content) == 0 || m.Content[0] != '{' {
		return s.skipMsg(ctx, stream.SendToDevice, seq)
	}
	devices := []string{m.DeviceID}
	if m.DeviceID == "*" {
		devs, err := s.users.QueryDevices(ctx, matrixid.UserID(m.UserID))
		if err != nil {
			return err
		}
		devices = devices[:0]
		for _, d := range devs {
			devices = append(devices, d.DeviceID)
		}
	}
	var pos types.StreamPosition
	err := s.db.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
		for _, d := range devices {
			var err error
			if pos, err = s.db.InsertToDevice(ctx, tx, m.UserID, d, m.Sender, m.Type, m.Content); err != nil {
				return err
			}
		}
		return s.db.SetConsumerSeq(ctx, tx, stream.SendToDevice, seq)
	})
	if err != nil {
		return err
	}
	if pos > 0 {
		s.notif.Advance(func(t *types.StreamToken) { t.ToDevice = pos }, m.UserID)
	}
	return nil
}
