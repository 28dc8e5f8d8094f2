package e2e

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

// BenchmarkAdminRoomDelete times DELETE /v2/rooms/{roomId} of a room with
// 500 messages and 3 local members until the job is complete and
// syncapi has purged it (set-up not timed; the waits poll, so this is
// an upper bound). SQLite; run with
// -benchtime=3x.
func BenchmarkAdminRoomDelete(b *testing.B) {
	ctx := context.Background()
	inst := testserver.Start(b, testserver.Options{})
	admin := adminUser(b, inst, "root")
	alice := inst.Register("alice", "password1")
	bob := inst.Register("bob", "password1")
	carol := inst.Register("carol", "password1")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		resp, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat"})
		must(b, err)
		for _, c := range []*mautrix.Client{bob, carol} {
			_, err := c.JoinRoomByID(ctx, resp.RoomID)
			must(b, err)
		}
		for j := 0; j < 500; j++ {
			_, err := alice.SendText(ctx, resp.RoomID, fmt.Sprintf("message %d", j))
			must(b, err)
		}
		b.StartTimer()
		got := adminDo(b, admin, "DELETE", "/v2/rooms/"+url.PathEscape(resp.RoomID.String()), map[string]any{})
		deleteID, _ := got.Body["delete_id"].(string)
		waitDeleteStatus(b, admin, deleteID, "complete")
		room := resp.RoomID
		testutil.Eventually(b, 60*time.Second, "syncapi to purge the room", func() bool {
			return roomRowCounts(b, inst, room)["syncapi_events"] == 0
		})
	}
}
