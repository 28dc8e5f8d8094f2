package storage_test

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/syncapi/storage"
	"github.com/axon-hs/axon/syncapi/types"
)

// benchWords is the vocabulary of generated messages: a Zipf-like mix, so
// some words are common and some rare.
var benchWords = strings.Fields(`the a to and of in is it you that for on with this was are be have not
	meeting lunch tomorrow project deploy server release bug fix review coffee weekend holiday train
	budget invoice report design sketch music guitar piano football match score ticket concert festival
	kitten puppy garden recipe pasta curry tofu bicycle mountain river ocean desert glacier volcano`)

// BenchmarkSearch measures one search page (10 results, by rank and by
// recent) over 100,000 indexed messages in 50 rooms, the user in all of
// them; it reports p50 and p99 per search.
func BenchmarkSearch(b *testing.B) {
	const messages, rooms = 100000, 50
	for _, be := range storagetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			d := storage.New(storagetest.OpenMigrated(b, be.NewDSN(b), "syncapi", storage.Migrations))
			rng := rand.New(rand.NewSource(1))
			for done := 0; done < messages; done += 1000 {
				err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
					for i := done; i < done+1000; i++ {
						n := 5 + rng.Intn(15)
						words := make([]string, n)
						for j := range words {
							words[j] = benchWords[int(float64(len(benchWords))*rng.Float64()*rng.Float64())]
						}
						ev := &types.Event{EventID: fmt.Sprintf("$%d", i), RoomID: fmt.Sprintf("!r%d", i%rooms), Type: "m.room.message", Sender: "@u:x",
							JSON: []byte(fmt.Sprintf(`{"content":{"body":%q}}`, strings.Join(words, " ")))}
						if _, err := d.InsertEvent(ctx, tx, ev, true); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			roomIDs := make([]string, rooms)
			for i := range roomIDs {
				roomIDs[i] = fmt.Sprintf("!r%d", i)
			}
			terms := [][]string{{"meeting"}, {"volcano"}, {"deploy", "server"}, {"the"}}
			for _, byRank := range []bool{true, false} {
				name := "recent"
				if byRank {
					name = "rank"
				}
				b.Run(name, func(b *testing.B) {
					lat := make([]time.Duration, 0, b.N)
					for i := 0; i < b.N; i++ {
						q := storage.SearchQuery{Terms: terms[i%len(terms)], Rooms: roomIDs, Keys: []string{"content.body"}, ByRank: byRank, Limit: 10}
						start := time.Now()
						if _, err := d.Search(ctx, q); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(start))
					}
					reportPercentiles(b, lat)
				})
			}
		})
	}
}

// BenchmarkUserDirectory measures a directory search among 10,000 users
// in 100 rooms (the searcher in 10 of them, 20 public).
func BenchmarkUserDirectory(b *testing.B) {
	const users, rooms = 10000, 100
	for _, be := range storagetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			ctx := context.Background()
			d := storage.New(storagetest.OpenMigrated(b, be.NewDSN(b), "syncapi", storage.Migrations))
			names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
			err := d.DB.WriteTx(ctx, func(tx *istorage.Tx) error {
				for r := 0; r < rooms; r++ {
					roomID := fmt.Sprintf("!r%d", r)
					var adds []*types.Event
					if r < 20 {
						sk := ""
						adds = append(adds, &types.Event{EventID: fmt.Sprintf("$jr%d", r), RoomID: roomID, Type: "m.room.join_rules", StateKey: &sk, JSON: []byte(`{"content":{"join_rule":"public"}}`)})
					}
					if r < 10 {
						me := "@me:x"
						adds = append(adds, &types.Event{EventID: fmt.Sprintf("$me%d", r), RoomID: roomID, Type: "m.room.member", StateKey: &me, Membership: "join", JSON: []byte(`{"content":{"membership":"join"}}`)})
					}
					for u := r; u < users; u += rooms {
						uid := fmt.Sprintf("@user%d:x", u)
						adds = append(adds, &types.Event{EventID: fmt.Sprintf("$m%d", u), RoomID: roomID, Type: "m.room.member", StateKey: &uid, Membership: "join",
							JSON: []byte(fmt.Sprintf(`{"content":{"membership":"join","displayname":"%s %d"}}`, names[u%len(names)], u))})
					}
					for _, ev := range adds {
						if _, err := d.InsertEvent(ctx, tx, ev, true); err != nil {
							return err
						}
					}
					if _, err := d.ApplyStateDelta(ctx, tx, roomID, types.StreamPosition(r+1), nil, adds); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				found, err := d.SearchDirectory(ctx, "@me:x", names[i%len(names)], 11)
				if err != nil || len(found) == 0 {
					b.Fatalf("found %d, %v", len(found), err)
				}
				lat = append(lat, time.Since(start))
			}
			reportPercentiles(b, lat)
		})
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(p(0.5), "p50-µs")
	b.ReportMetric(p(0.99), "p99-µs")
}
