package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/axon-hs/axon/adminapi/storage"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

// TestRoomDeletes: deletion jobs are stored, updated, listed per room and
// the unfinished ones found for resuming.
func TestRoomDeletes(t *testing.T) {
	storagetest.ForEachBackendWith(t, "adminapi", storage.Migrations, storage.New, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		for i, id := range []string{"a", "b", "c"} {
			room := "!r:x"
			if id == "c" {
				room = "!s:x"
			}
			if err := d.InsertRoomDelete(ctx, storage.RoomDelete{DeleteID: id, RoomID: room, Requester: "@admin:x", Params: "{}",
				Status: "shutting_down", Result: "{}", CreatedTS: int64(i), UpdatedTS: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.UpdateRoomDelete(ctx, "a", "failed", "boom", `{"kicked_users":[]}`, 10); err != nil {
			t.Fatal(err)
		}
		if err := d.UpdateRoomDelete(ctx, "c", "purging", "", "{}", 11); err != nil {
			t.Fatal(err)
		}
		a, err := d.RoomDelete(ctx, "a")
		if err != nil || a.Status != "failed" || a.Error != "boom" || a.Result != `{"kicked_users":[]}` || a.UpdatedTS != 10 {
			t.Fatalf("a: %+v %v", a, err)
		}
		if _, err := d.RoomDelete(ctx, "zzz"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		byRoom, err := d.RoomDeletes(ctx, "!r:x")
		if err != nil || len(byRoom) != 2 || byRoom[0].DeleteID != "a" || byRoom[1].DeleteID != "b" {
			t.Fatalf("by room: %+v %v", byRoom, err)
		}
		open, err := d.UnfinishedRoomDeletes(ctx, "complete", "failed")
		if err != nil || len(open) != 2 || open[0].DeleteID != "b" || open[1].DeleteID != "c" || open[1].Status != "purging" {
			t.Fatalf("unfinished: %+v %v", open, err)
		}
	})
}
