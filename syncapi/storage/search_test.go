package storage_test

import (
	"context"
	"fmt"
	"testing"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// TestSearchIndex: messages, names and topics are indexed on insert,
// found by all their words (case-insensitively) in the given rooms and
// keys, ranked and paged, and leave the index when redacted.
func TestSearchIndex(t *testing.T) {
	ctx := context.Background()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			d := storage.New(storagetest.OpenMigrated(t, b.NewDSN(t), "syncapi", storage.Migrations))
			sk := ""
			msg := func(id, room, body string) *types.Event {
				return &types.Event{EventID: id, RoomID: room, Type: "m.room.message", Sender: "@u:x", JSON: []byte(fmt.Sprintf(`{"content":{"body":%q}}`, body))}
			}
			evs := []*types.Event{
				msg("$1", "!a", "the quick brown fox"),
				msg("$2", "!a", "Fox fox FOX"),
				msg("$3", "!b", "a fox in another room"),
				msg("$4", "!a", "nothing to see"),
				{EventID: "$5", RoomID: "!a", Type: "m.room.topic", Sender: "@u:x", StateKey: &sk, JSON: []byte(`{"content":{"topic":"all about foxes and fox"}}`)},
				{EventID: "$6", RoomID: "!a", Type: "m.room.encrypted", Sender: "@u:x", JSON: []byte(`{"content":{"body":"fox"}}`)},
			}
			err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				for _, ev := range evs {
					if _, err := d.InsertEvent(ctx, tx, ev, true); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			q := storage.SearchQuery{Terms: []string{"fox"}, Rooms: []string{"!a"}, Keys: []string{"content.body"}, ByRank: true, Limit: 10}
			hits, err := d.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 2 || hits[0].Pos != evs[1].Pos || hits[1].Pos != evs[0].Pos || hits[0].Rank <= hits[1].Rank {
				t.Fatalf("rank order: %+v", hits)
			}
			if n, err := d.SearchCount(ctx, q); err != nil || n != 2 {
				t.Fatalf("count %d %v", n, err)
			}
			// A message delivered again is neither stored nor indexed twice.
			again := msg("$1", "!a", "the quick brown fox")
			err = d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				inserted, err := d.InsertEvent(ctx, tx, again, true)
				if err == nil && inserted {
					t.Error("a stored message was inserted again")
				}
				return err
			})
			if err != nil || again.Pos != evs[0].Pos {
				t.Fatalf("insert again: %v, position %d, first %d", err, again.Pos, evs[0].Pos)
			}
			if n, err := d.SearchCount(ctx, q); err != nil || n != 2 {
				t.Fatalf("count after a repeat %d %v", n, err)
			}
			q.Terms = []string{"quick", "fox"}
			if hits, _ := d.Search(ctx, q); len(hits) != 1 || hits[0].Pos != evs[0].Pos {
				t.Fatalf("all terms: %+v", hits)
			}
			q.Terms, q.Keys = []string{"fox"}, []string{"content.body", "content.topic"}
			q.ByRank, q.Limit = false, 1
			page, _ := d.Search(ctx, q)
			if len(page) != 1 || page[0].Pos != evs[4].Pos {
				t.Fatalf("recent first: %+v", page)
			}
			q.Before = int64(page[0].Pos)
			if next, _ := d.Search(ctx, q); len(next) != 1 || next[0].Pos != evs[1].Pos {
				t.Fatalf("next page: %+v", next)
			}
			// Redaction removes the event from the index.
			err = d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				return d.UpdateEventJSON(ctx, tx, "$2", []byte(`{"content":{}}`), true)
			})
			if err != nil {
				t.Fatal(err)
			}
			q = storage.SearchQuery{Terms: []string{"fox"}, Rooms: []string{"!a", "!b"}, Keys: []string{"content.body"}, ByRank: true, Limit: 10}
			hits, _ = d.Search(ctx, q)
			if len(hits) != 2 || hits[0].Pos == evs[1].Pos || hits[1].Pos == evs[1].Pos {
				t.Fatalf("after redaction: %+v", hits)
			}
		})
	}
}
