package federationapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/internal/storage/storagetest"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// A pushed event whose prev events we lack: the origin is asked for the
// gap (get_missing_events). When it answers, even with nothing usable (an
// event that does not parse), the pushed event is dropped and the origin
// is not asked for the state before it (/state_ids): that would let it
// place its event on whatever state it claims. Only an origin that cannot
// answer get_missing_events is asked for /state_ids.
func TestFillGapNoStateIDsWhenOriginAnswered(t *testing.T) {
	be := storagetest.Backends()[0]
	a := startServer(t, be.NewDSN)
	for _, tc := range []struct {
		name          string
		missingStatus int
		missingBody   string
		wantStateIDs  int64
	}{
		{"unusable events", http.StatusOK, `{"events":[{"type":"m.room.message","bad_val":1.1}]}`, 0},
		{"no events", http.StatusOK, `{}`, 0},
		{"not answered", http.StatusNotFound, `{"errcode":"M_UNRECOGNIZED","error":"no"}`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var missingCalls, stateIDCalls atomic.Int64
			origin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case strings.HasPrefix(r.URL.Path, "/_matrix/federation/v1/get_missing_events/"):
					missingCalls.Add(1)
					w.WriteHeader(tc.missingStatus)
					_, _ = w.Write([]byte(tc.missingBody))
				case strings.HasPrefix(r.URL.Path, "/_matrix/federation/v1/state_ids/"):
					stateIDCalls.Add(1)
					w.WriteHeader(http.StatusNotFound)
					_, _ = w.Write([]byte(`{"errcode":"M_NOT_FOUND","error":"no"}`))
				default:
					w.WriteHeader(http.StatusNotFound)
					_, _ = w.Write([]byte(`{"errcode":"M_UNRECOGNIZED","error":"no"}`))
				}
			}))
			t.Cleanup(origin.Close)
			roomID := "!gap:" + a.name
			ev := buildEvent(t, a.api.id, roomID, "@charlie:"+a.name, "m.room.message", nil, map[string]string{"body": "Message 2"})
			a.rooms.mu.Lock()
			a.rooms.missingPrev = map[string][]string{ev.EventID(): {"$unknown"}}
			a.rooms.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res := a.api.fillGapAndRetry(ctx, spec.ServerName(origin.Listener.Addr().String()), ev, rsapi.InputResult{MissingPrevEvents: []string{"$unknown"}})
			if res.Err == nil && !needsFetch(res) {
				t.Fatalf("the event was placed: %+v", res)
			}
			if n := missingCalls.Load(); n != 1 {
				t.Fatalf("get_missing_events asked %d times, want 1", n)
			}
			if n := stateIDCalls.Load(); n != tc.wantStateIDs {
				t.Fatalf("state_ids asked %d times, want %d", n, tc.wantStateIDs)
			}
		})
	}
}
