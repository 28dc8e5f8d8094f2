package storage_test

import (
	"context"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestEventsAndSearchSurviveMigrations: events stored and indexed under
// the first search layout (migration 4) are still read back by position,
// found, ranked and paged after the later migrations (13 folds SQLite's
// search rows into one full-text table, 14 rebuilds syncapi_events keyed
// by pos), a repeat of one is still refused, and a purge of their room
// leaves no search row behind.
func TestEventsAndSearchSurviveMigrations(t *testing.T) {
	ctx := context.Background()
	var beforeSearch int
	for _, m := range storage.Migrations {
		if m.Version < 4 {
			beforeSearch++
		}
	}
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := storagetest.OpenMigrated(t, b.NewDSN(t), "syncapi", storage.Migrations[:beforeSearch])
			old := []struct {
				pos       int64
				id, room  string
				typ, json string
				stateKey  any
			}{
				{1, "$1", "!a", "m.room.message", `{"content":{"body":"the quick brown fox"}}`, nil},
				{2, "$2", "!a", "m.room.message", `{"content":{"body":"Fox fox FOX"}}`, nil},
				{3, "$3", "!b", "m.room.message", `{"content":{"body":"a fox in another room"}}`, nil},
				{4, "$4", "!a", "m.room.topic", `{"content":{"topic":"foxes and a fox"}}`, ""},
			}
			for _, e := range old {
				if _, err := db.ExecContext(ctx, `INSERT INTO syncapi_events (pos, event_id, room_id, type, sender, state_key, origin_ts, json)
					VALUES ($1, $2, $3, $4, '@u:x', $5, 0, $6)`, e.pos, e.id, e.room, e.typ, e.stateKey, e.json); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Migrate(ctx, "syncapi", storage.Migrations); err != nil {
				t.Fatal(err)
			}
			d := storage.New(db)
			q := storage.SearchQuery{Terms: []string{"fox"}, Rooms: []string{"!a"}, Keys: []string{"content.body"}, ByRank: true, Limit: 10}
			hits, err := d.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 2 || hits[0].Pos != 2 || hits[1].Pos != 1 || hits[0].RoomID != "!a" || hits[0].Rank <= hits[1].Rank {
				t.Fatalf("ranked hits after the migrations: %+v", hits)
			}
			q.ByRank, q.Before, q.Keys = false, 4, []string{"content.body", "content.topic"}
			if hits, err = d.Search(ctx, q); err != nil || len(hits) != 2 || hits[0].Pos != 2 {
				t.Fatalf("newest-first hits before pos 4: %+v %v", hits, err)
			}
			evs, err := d.EventsByPos(ctx, []types.StreamPosition{3, 4})
			if err != nil || len(evs) != 2 {
				t.Fatalf("events by pos after the migrations: %+v %v", evs, err)
			}
			for _, ev := range evs {
				if want := old[ev.Pos-1]; ev.EventID != want.id || ev.RoomID != want.room || string(ev.JSON) != want.json || (ev.StateKey != nil) != (want.stateKey != nil) {
					t.Fatalf("event %d after the migrations: %+v", ev.Pos, ev)
				}
			}
			err = db.WriteTx(ctx, func(tx *istorage.Tx) error {
				inserted, err := d.InsertEvent(ctx, tx, &types.Event{EventID: "$3", RoomID: "!b", Type: "m.room.message", Sender: "@u:x", JSON: []byte(old[2].json)}, true)
				if err == nil && inserted {
					t.Error("an event stored before the migrations was stored again")
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.WriteTx(ctx, func(tx *istorage.Tx) error { return d.PurgeRoom(ctx, tx, "!a") }); err != nil {
				t.Fatal(err)
			}
			counts, err := d.RoomRowCounts(ctx, "!a")
			if err != nil {
				t.Fatal(err)
			}
			if counts["syncapi_search"] != 0 || counts["syncapi_search (orphaned)"] != 0 {
				t.Fatalf("search rows left by the purge: %v", counts)
			}
			q.Rooms = []string{"!b"}
			if hits, err = d.Search(ctx, q); err != nil || len(hits) != 1 || hits[0].Pos != 3 {
				t.Fatalf("other room's hits after the purge: %+v %v", hits, err)
			}
		})
	}
}
