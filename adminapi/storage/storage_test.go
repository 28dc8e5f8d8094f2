package storage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/axon-hs/axon/adminapi/storage"
	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
)

func TestNoticeRooms(t *testing.T) {
	storagetest.ForEachBackendWith(t, "adminapi", storage.Migrations, storage.New, func(t *testing.T, d *storage.DB) {
		ctx := context.Background()
		if _, err := d.NoticeRoom(ctx, "@a:x"); !errors.Is(err, istorage.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		for _, room := range []string{"!r1:x", "!r2:x"} {
			if err := d.SetNoticeRoom(ctx, "@a:x", room); err != nil {
				t.Fatal(err)
			}
			got, err := d.NoticeRoom(ctx, "@a:x")
			if err != nil || got != room {
				t.Fatalf("notice room: %q %v, want %q", got, err, room)
			}
		}
	})
}
