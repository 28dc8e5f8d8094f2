package storage_test

import (
	"context"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/reports/storage"
)

func TestReportStorage(t *testing.T) {
	storagetest.ForEachBackend(t, "reports", storage.Migrations, func(t *testing.T, db *istorage.DB) {
		d := storage.New(db)
		ctx := context.Background()
		score := -50
		for _, r := range []storage.Report{
			{Reporter: "@a:x", RoomID: "!r:x", EventID: "$e", Reason: "spam", Score: &score, TS: 1},
			{Reporter: "@a:x", UserID: "@b:x", Reason: "", TS: 2},
		} {
			if err := d.AddReport(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := d.Reports(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].UserID != "@b:x" || got[0].Score != nil || got[1].EventID != "$e" || *got[1].Score != -50 || got[1].Reason != "spam" {
			t.Fatalf("reports: %+v", got)
		}
		older, err := d.Reports(ctx, got[0].ID, 10)
		if err != nil || len(older) != 1 || older[0].ID != got[1].ID {
			t.Fatalf("paging: %+v %v", older, err)
		}
	})
}
