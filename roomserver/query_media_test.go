package roomserver

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// TestQueryRoomMediaURIs: every mxc:// URI in a room's events is listed
// across pages (more events than one page holds), each page's URIs once;
// an unknown room is ErrRoomNotFound.
func TestQueryRoomMediaURIs(t *testing.T) {
	rs, _ := newTestServer(t, storagetest.SQLiteDSN(t))
	alice := "@alice:" + testServer
	room := createTestRoom(t, rs, alice, "10", "public")
	want := map[string]bool{}
	n := roomMediaPageEvents + 20
	for i := range n {
		uri := fmt.Sprintf("mxc://%s/m%d", testServer, i%(n-5)) // a few URIs sent twice
		want[uri] = true
		res := send(t, rs, local(room, alice, "m.room.message", nil, map[string]any{"msgtype": "m.image", "body": "x", "url": uri}))
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	got := map[string]bool{}
	pages := 0
	var after int64
	for {
		page, err := rs.QueryRoomMediaURIs(context.Background(), matrixid.RoomID(room), after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range page.URIs {
			got[u] = true
		}
		if page.Next == 0 {
			break
		}
		after = page.Next
	}
	if pages != 2 || len(got) != len(want) {
		t.Fatalf("%d pages, %d URIs; want 2 pages, %d URIs", pages, len(got), len(want))
	}
	for u := range want {
		if !got[u] {
			t.Fatalf("%s not listed", u)
		}
	}
	if _, err := rs.QueryRoomMediaURIs(context.Background(), "!nope:"+testServer, 0); !errors.Is(err, api.ErrRoomNotFound) {
		t.Fatalf("unknown room: %v", err)
	}
}
