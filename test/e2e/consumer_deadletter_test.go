package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/streampos"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// consumedStreams lists, per component, the streams its consumers read
// and the position key each records its dead letters under.
var consumedStreams = map[string]map[string]string{
	"syncapi": {
		stream.RoomEvents: stream.RoomEvents, stream.AccountData: stream.AccountData,
		stream.Receipts: stream.Receipts, stream.Presence: stream.Presence,
		stream.SendToDevice: stream.SendToDevice, stream.Typing: stream.Typing,
		stream.DeviceListUpdates: stream.DeviceListUpdates,
	},
	"federationapi": {
		stream.RoomEvents: "federationapi_room_events", stream.Typing: "federationapi_typing",
		stream.Receipts: "federationapi_receipts", stream.Presence: "federationapi_presence",
		stream.SendToDevice: "federationapi_send_to_device", stream.DeviceListUpdates: "federationapi_device_list_updates",
	},
	"keyserver":  {stream.UserDevices: stream.UserDevices},
	"pushserver": {stream.UserDevices: stream.UserDevices},
}

// TestPoisonMessagesAreDeadLettered: two undecodable messages on every
// consumed stream are recorded in each consumer's own dead-letter table
// (the second proves the consumer went past the first), and the streams
// go on: later messages, account data and key changes reach /sync. On
// PostgreSQL a room event with a NUL byte in an indexed field (which the
// database refuses) is dead-lettered too instead of stalling /sync.
func TestPoisonMessagesAreDeadLettered(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		opts.Configure = testserver.Federated(t)
		srv := testserver.Start(t, opts)
		ctx := context.Background()
		alice := srv.Register("alice", "password123")
		bob := srv.Register("bob", "password123")
		room := syncRoom(t, alice, bob)
		since := syncOnce(t, bob, "", 0, "").NextBatch

		published := map[string][]uint64{} // stream -> poison seqs
		publish := func(name string, data []byte) {
			t.Helper()
			st, err := srv.Server.Base.Bus.Stream(ctx, name, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			seq, err := st.Publish(ctx, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			published[name] = append(published[name], seq)
		}
		for _, name := range []string{stream.RoomEvents, stream.AccountData, stream.Receipts, stream.Presence, stream.SendToDevice, stream.Typing, stream.DeviceListUpdates, stream.UserDevices} {
			publish(name, []byte("{not json"))
			publish(name, []byte("\x00\xff"))
		}
		poisons := map[string][]uint64{}
		for name, seqs := range published {
			poisons[name] = slices.Clone(seqs)
		}
		// PostgreSQL refuses NUL in TEXT: only the syncapi, which indexes
		// the thread relation, cannot apply this one.
		nulSeq := uint64(0)
		if opts.Backend == "postgres" {
			publish(stream.RoomEvents, nulThreadEvent(t, string(room)))
			nulSeq = published[stream.RoomEvents][2]
		}

		// The streams go on.
		syncSend(t, alice, room, "after the poison")
		if err := alice.SetAccountData(ctx, "org.example.after", map[string]any{"ok": true}); err != nil {
			t.Fatal(err)
		}
		syncUntil(t, bob, since, 20*time.Second, func(r *mautrix.RespSync) bool {
			jr, ok := r.Rooms.Join[room]
			return ok && slices.Contains(syncBodies(jr.Timeline.Events), "after the poison")
		})
		syncUntil(t, alice, "", 20*time.Second, func(r *mautrix.RespSync) bool {
			return slices.ContainsFunc(r.AccountData.Events, func(e *event.Event) bool { return e.Type.Type == "org.example.after" })
		})

		for component, streams := range consumedStreams {
			db, err := storage.Open(ctx, srv.Cfg.DatabaseDSN(component))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			table := component + "_dead_letters"
			var got []streampos.DeadLetter
			expected := poisons
			if component == "syncapi" {
				expected = published
			}
			testutil.Eventually(t, 30*time.Second, component+" dead letters", func() bool {
				got, err = streampos.DeadLetters(ctx, db, table)
				if err != nil {
					t.Fatal(err)
				}
				for name, key := range streams {
					for _, seq := range expected[name] {
						if !slices.ContainsFunc(got, func(d streampos.DeadLetter) bool { return d.Stream == key && d.Seq == seq }) {
							return false
						}
					}
				}
				return true
			})
			for _, d := range got {
				if d.Error == "" || len(d.Data) == 0 {
					t.Fatalf("%s dead letter without error or data: %+v", component, d)
				}
				if d.Seq == nulSeq && d.Stream == stream.RoomEvents && !strings.Contains(d.Error, "22021") {
					t.Fatalf("NUL event dead-lettered for another reason: %s", d.Error)
				}
			}
		}
	})
}

// nulThreadEvent is roomserver output for a message whose thread
// relation names an event ID with a NUL byte, as a client could send
// before the edge refused such input.
func nulThreadEvent(t *testing.T, roomID string) []byte {
	t.Helper()
	eventID := fmt.Sprintf("$nul%d", time.Now().UnixNano())
	pdu := map[string]any{
		"type": "m.room.message", "room_id": roomID, "sender": "@alice:x", "origin_server_ts": time.Now().UnixMilli(),
		"depth": 100, "prev_events": []string{}, "auth_events": []string{}, "hashes": map[string]string{"sha256": "x"},
		"content": map[string]any{"msgtype": "m.text", "body": "x", "m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": "$a\u0000b"}},
	}
	ev, err := json.Marshal(pdu)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(map[string]any{"type": "new_room_event", "new_room_event": map[string]any{
		"room_id": roomID, "room_version": "10", "event_id": eventID, "event": json.RawMessage(ev)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
