package syncapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	"github.com/axon-hs/axon/syncapi/types"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// TestSharedReadOnce: callers at one position get one read's answer; a
// failed read is not handed to the others; a newer position reads again.
func TestSharedReadOnce(t *testing.T) {
	var m sharedReads
	var reads atomic.Int32
	release := make(chan struct{})
	read := func() (int, error) {
		reads.Add(1)
		<-release
		return 7, nil
	}
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = sharedRead(&m, 5, "k", read)
		}()
	}
	close(release)
	wg.Wait()
	for i, v := range got {
		if v != 7 {
			t.Fatalf("caller %d got %d", i, v)
		}
	}
	if n := reads.Load(); n < 1 || n > int32(len(got)) {
		t.Fatalf("%d reads", n)
	}
	before := reads.Load()
	if v, err := sharedRead(&m, 5, "k", read); v != 7 || err != nil || reads.Load() != before {
		t.Fatalf("same position read again: %d, %v, %d reads", v, err, reads.Load())
	}
	if _, err := sharedRead(&m, 6, "k", read); err != nil || reads.Load() != before+1 {
		t.Fatalf("newer position not read: %v, %d reads", err, reads.Load())
	}
	failed := errors.New("cancelled")
	if _, err := sharedRead(&m, 6, "bad", func() (int, error) { return 0, failed }); !errors.Is(err, failed) {
		t.Fatalf("error %v", err)
	}
	if v, err := sharedRead(&m, 6, "bad", func() (int, error) { return 3, nil }); v != 3 || err != nil {
		t.Fatalf("a failed read was kept: %d, %v", v, err)
	}
}

// TestWokenSyncsShareReads: incremental /syncs at one position share the
// timeline rows, yet each user still sees it as before: the ignored
// sender hidden, a redaction applied to its target and an erasure (both
// rewrite an old event at no new position) shown to the /syncs after
// them, whatever was read before.
func TestWokenSyncsShareReads(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newTestSyncAPI(t, b.NewDSN(t))
			alice, bob, carol, dave := "@alice:test", "@bob:test", "@carol:test", "@dave:test"
			r := newTestRoom(t, "!room:test")
			r.create(s, alice)
			for _, u := range []string{bob, carol, dave} {
				r.join(s, u)
			}
			s.ignores.set(carol, json.RawMessage(`{"ignored_users":{"@alice:test":{}}}`))
			timeline := func(user string, since types.StreamToken) []string {
				t.Helper()
				jr := testSync(t, s, user, &since, nil).Rooms.Join[r.id]
				if jr == nil {
					return nil
				}
				return bodies(jr.Timeline.Events)
			}

			since := s.notif.Current()
			id := r.say(s, alice, "hello")
			if got := fmt.Sprint(timeline(bob, since)); got != "[hello]" {
				t.Fatalf("bob: %s", got)
			}
			s.shared.mu.Lock()
			shared := len(s.shared.calls)
			s.shared.mu.Unlock()
			if shared == 0 {
				t.Fatal("bob's /sync shared no read")
			}
			if got := timeline(carol, since); len(got) != 0 {
				t.Fatalf("carol ignores alice, got %v", got)
			}
			if got := fmt.Sprint(timeline(dave, since)); got != "[hello]" {
				t.Fatalf("dave: %s", got)
			}

			// The redaction event, then its application to the target.
			red := r.event(bob, "m.room.redaction", nil, map[string]any{"redacts": id})
			s.mustApply(t, 0, red)
			if got := fmt.Sprint(timeline(bob, since)); got != "[hello]" {
				t.Fatalf("bob before the redaction is applied: %s", got)
			}
			redactedPDU, err := r.version.RedactEventJSON(r.pdus[id])
			must(t, err)
			must(t, s.applyRedaction(ctx, 0, &rsapi.OutputRedaction{RoomID: r.id, RedactedEventID: id, RedactionEventID: red.EventID, RedactedEvent: redactedPDU}))
			if got := fmt.Sprint(timeline(dave, since)); got != "[]" {
				t.Fatalf("dave after the redaction: %s", got)
			}

			since = s.notif.Current()
			r.say(s, bob, "secret")
			if got := fmt.Sprint(timeline(alice, since)); got != "[secret]" {
				t.Fatalf("alice: %s", got)
			}
			msg, err := json.Marshal(uapi.OutputAccountData{UserID: bob, Erased: true})
			must(t, err)
			must(t, s.onAccountDataMsg(ctx, stream.Message{Seq: 1, Data: msg}))
			if got := fmt.Sprint(timeline(dave, since)); got != "[]" {
				t.Fatalf("dave after bob's erasure: %s", got)
			}
		})
	}
}
