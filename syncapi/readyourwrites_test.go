package syncapi

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// laggingLog makes syncapi's copy trail the log: the log's room_events
// head is seq, holding pending, which the consumer applies only once a
// request reads the heads (waits for it). A request that does not wait
// for the consumer answers from the copy without pending.
func laggingLog(t *testing.T, s *SyncAPI, seq uint64, pending ...*rsapi.OutputNewRoomEvent) {
	t.Helper()
	var once sync.Once
	applied := make(chan error, 1)
	s.heads = &headReads{read: func(context.Context) ([]uint64, error) {
		once.Do(func() {
			go func() {
				for _, ev := range pending {
					if err := s.applyNewRoomEvent(context.Background(), seq, ev); err != nil {
						applied <- err
						return
					}
				}
				s.progress.set(stream.RoomEvents, seq)
				applied <- nil
			}()
		})
		return []uint64{seq, 0, 0}, nil
	}}
	t.Cleanup(func() {
		select {
		case err := <-applied:
			if err != nil {
				t.Errorf("consumer: %v", err)
			}
		default:
		}
	})
}

// A read receipt for the message a client just sent: syncapi has not
// applied the send yet when the receipt arrives.
func TestReceiptForEventNotYetApplied(t *testing.T) {
	ctx := context.Background()
	s := newTestSyncAPI(t, storagetest.Backends()[0].NewDSN(t))
	r := newTestRoom(t, "!room:test")
	r.create(s, "@alice:test")
	sent := r.event("@alice:test", "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "hi"})
	laggingLog(t, s, 10, sent)

	ev, errResp := s.receiptTarget(ctx, "@alice:test", r.id, sent.EventID)
	if errResp != nil {
		t.Fatalf("receipt for the event just sent: %d %v", errResp.Code, errResp.JSON)
	}
	if ev.EventID != sent.EventID {
		t.Fatalf("receipt target %s, want %s", ev.EventID, sent.EventID)
	}
	if _, errResp := s.receiptTarget(ctx, "@alice:test", r.id, "$unknown"); errResp == nil || errResp.Code != 404 {
		t.Fatalf("receipt for an unknown event: %v", errResp)
	}
}

// GET /presence of a user the caller just joined a room with.
func TestSharesRoomCountsJoinNotYetApplied(t *testing.T) {
	s := newTestSyncAPI(t, storagetest.Backends()[0].NewDSN(t))
	r := newTestRoom(t, "!room:test")
	r.create(s, "@alice:test")
	bobJoin := r.event("@bob:test", "m.room.member", sk("@bob:test"), map[string]any{"membership": "join"})
	laggingLog(t, s, 10, bobJoin)

	if !s.sharesRoomNow(context.Background(), "@alice:test", "@bob:test") {
		t.Fatal("bob's join, acknowledged before the request, is not counted")
	}
	if s.sharesRoomNow(context.Background(), "@alice:test", "@carol:test") {
		t.Fatal("carol shares no room with alice")
	}
}

// GET /notifications right after a mention was sent.
func TestNotificationsListEventNotYetApplied(t *testing.T) {
	s := newTestSyncAPI(t, storagetest.Backends()[0].NewDSN(t))
	r := newTestRoom(t, "!room:test")
	r.create(s, "@alice:test")
	r.join(s, "@bob:test")
	mention := r.event("@alice:test", "m.room.message", nil, map[string]any{"msgtype": "m.text", "body": "hi bob",
		"m.mentions": map[string]any{"user_ids": []string{"@bob:test"}}})
	laggingLog(t, s, 10, mention)

	resp := s.handleNotifications(httptest.NewRequest("GET", "/notifications", nil), &uapi.Device{UserID: "@bob:test", ID: "DEV"})
	body, _ := resp.JSON.(map[string]any)
	ns, _ := body["notifications"].([]map[string]any)
	if resp.Code != 200 || len(ns) != 1 {
		t.Fatalf("bob's notifications: %d %v", resp.Code, resp.JSON)
	}
}
