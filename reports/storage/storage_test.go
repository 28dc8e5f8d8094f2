package storage_test

import (
	"context"
	"fmt"
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

// TestEventReportStorage: only reports of events are listed, filtered by
// room and reporter, paged both ways and counted; one is read and
// deleted by ID.
func TestEventReportStorage(t *testing.T) {
	storagetest.ForEachBackend(t, "reports", storage.Migrations, func(t *testing.T, db *istorage.DB) {
		d := storage.New(db)
		ctx := context.Background()
		for _, r := range []storage.Report{
			{Reporter: "@a:x", RoomID: "!r:x", EventID: "$1", TS: 1},
			{Reporter: "@b:x", RoomID: "!r:x", EventID: "$2", TS: 2},
			{Reporter: "@a:x", RoomID: "!s:x", EventID: "$3", TS: 3},
			{Reporter: "@a:x", RoomID: "!r:x", TS: 4}, // a room report
			{Reporter: "@a:x", UserID: "@c:x", TS: 5}, // a user report
		} {
			if err := d.AddReport(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(l []storage.Report) (out []string) {
			for _, r := range l {
				out = append(out, r.EventID)
			}
			return out
		}
		all, total, err := d.EventReports(ctx, storage.EventReportFilter{Limit: 10})
		if err != nil || total != 3 || fmt.Sprint(ids(all)) != "[$3 $2 $1]" {
			t.Fatalf("all: %v %d %v", ids(all), total, err)
		}
		page, total, err := d.EventReports(ctx, storage.EventReportFilter{Forward: true, From: 1, Limit: 1})
		if err != nil || total != 3 || fmt.Sprint(ids(page)) != "[$2]" {
			t.Fatalf("page: %v %d %v", ids(page), total, err)
		}
		byRoom, total, err := d.EventReports(ctx, storage.EventReportFilter{RoomID: "!r:x", Reporter: "@a:x", Limit: 10})
		if err != nil || total != 1 || fmt.Sprint(ids(byRoom)) != "[$1]" {
			t.Fatalf("by room and reporter: %v %d %v", ids(byRoom), total, err)
		}
		one, err := d.EventReport(ctx, all[0].ID)
		if err != nil || one.EventID != "$3" {
			t.Fatalf("one: %+v %v", one, err)
		}
		if err := d.DeleteEventReport(ctx, all[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.EventReport(ctx, all[0].ID); err != istorage.ErrNotFound {
			t.Fatalf("after delete: %v", err)
		}
		if err := d.DeleteEventReport(ctx, all[0].ID); err != istorage.ErrNotFound {
			t.Fatalf("second delete: %v", err)
		}
		roomReport, _ := d.Reports(ctx, 0, 10)
		if _, err := d.EventReport(ctx, roomReport[1].ID); err != istorage.ErrNotFound {
			t.Fatalf("a room report read as an event report: %v", err)
		}
	})
}
