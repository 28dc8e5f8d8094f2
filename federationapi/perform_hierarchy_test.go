package federationapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestQueryHierarchy asks fake remote servers: a failing server is
// passed over for the next via server, links and children that are not
// usable are dropped, and answers about another room, too large or not
// JSON are refused; a remote "not found" keeps its code.
func TestQueryHierarchy(t *testing.T) {
	asker := startServer(t, storagetest.SQLiteDSN)
	var asked atomic.Int32
	remote := func(status int, body string) string {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			if !strings.HasPrefix(r.URL.Path, "/_matrix/federation/v1/hierarchy/") || !strings.HasPrefix(r.Header.Get("Authorization"), "X-Matrix ") {
				http.Error(w, `{"errcode":"M_UNRECOGNIZED"}`, http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	// The room ID names the asker itself, which is never asked.
	room := "!space:" + asker.name
	good := `{"room":{"room_id":"` + room + `","name":"S","room_type":"m.space","num_joined_members":2,"world_readable":true,"guest_can_join":false,
		"children_state":[{"type":"m.space.child","state_key":"!a:example.org","content":{"via":["example.org"]},"sender":"@u:example.org","origin_server_ts":1},
			{"type":"m.room.name","state_key":"","content":{"name":"x"},"sender":"@u:example.org","origin_server_ts":1},
			{"type":"m.space.child","state_key":"not-a-room","content":{"via":["example.org"]},"sender":"@u:example.org","origin_server_ts":1}]},
		"children":[{"room_id":"!a:example.org","name":"A","num_joined_members":1,"world_readable":false,"guest_can_join":false,"join_rule":"public","encryption":"m.megolm.v1.aes-sha2","room_version":"10"},
			{"room_id":"bogus","num_joined_members":1,"world_readable":false,"guest_can_join":false}],
		"inaccessible_children":["!b:example.org"]}`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	broken, ok := remote(http.StatusInternalServerError, `{"errcode":"M_UNKNOWN"}`), remote(http.StatusOK, good)
	resp, err := asker.api.QueryHierarchy(ctx, &fedapi.HierarchyRequest{RoomID: room, Servers: []string{broken, ok}})
	if err != nil {
		t.Fatalf("second via server not used: %v", err)
	}
	if asked.Load() != 2 || resp.Room.Name != "S" || len(resp.Room.ChildrenState) != 1 || resp.Room.ChildrenState[0].StateKey != "!a:example.org" {
		t.Fatalf("room: %+v (asked %d)", resp.Room, asked.Load())
	}
	if len(resp.Children) != 1 || resp.Children[0].Encryption != "m.megolm.v1.aes-sha2" || resp.Children[0].RoomVersion != "10" ||
		len(resp.InaccessibleChildren) != 1 {
		t.Fatalf("children: %+v, inaccessible %v", resp.Children, resp.InaccessibleChildren)
	}

	for name, srv := range map[string]string{
		"another room": remote(http.StatusOK, strings.Replace(good, room, "!other:example.org", 1)),
		"not JSON":     remote(http.StatusOK, `<html>`),
		"too large":    remote(http.StatusOK, `{"room":{"room_id":"`+room+`","name":"`+strings.Repeat("x", hierarchyMaxBytes)+`"}}`),
	} {
		_, err := asker.api.QueryHierarchy(ctx, &fedapi.HierarchyRequest{RoomID: room, Servers: []string{srv}})
		var fe *fedapi.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusBadGateway {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err = asker.api.QueryHierarchy(ctx, &fedapi.HierarchyRequest{RoomID: room, Servers: []string{remote(http.StatusNotFound, `{"errcode":"M_NOT_FOUND","error":"no"}`)}})
	var fe *fedapi.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusNotFound || fe.Code != "M_NOT_FOUND" {
		t.Fatalf("remote not found: %v", err)
	}
	if _, err := asker.api.QueryHierarchy(ctx, &fedapi.HierarchyRequest{RoomID: "nonsense"}); !errors.As(err, &fe) || fe.Status != http.StatusBadRequest {
		t.Fatalf("bad room ID: %v", err)
	}
}
