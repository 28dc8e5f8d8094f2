package roomserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// TestRemotePDUWithUnstorableTextIsRefused: a PDU from another server
// whose JSON carries a NUL character (PostgreSQL cannot store it, and a
// stored one would stop every consumer copying it) or nests deeper than
// the input limit is refused at ingest: not stored, not output, and the
// room goes on.
func TestRemotePDUWithUnstorableTextIsRefused(t *testing.T) {
	for _, be := range storagetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, pub := newTestServer(t, be.NewDSN(t))
			rem := newRemote(t, rs)
			alice, bob := "@alice:"+testServer, "@bob:other.test"
			roomID := createTestRoom(t, rs, alice, "10", "public")
			ext, _ := rs.QueryForwardExtremities(ctx, matrixid.RoomID(roomID))
			join := rem.build(roomID, bob, "m.room.member", strp(bob), map[string]string{"membership": "join"},
				matrixid.Strings(ext), rem.stateIDs(roomID, tCreate, tPL, tJR), 10, time.Now())
			if res := rem.input(join); res.Err != nil {
				t.Fatalf("remote join: %+v", res)
			}
			var deep any = "x"
			for range 100 {
				deep = []any{deep}
			}
			for name, content := range map[string]any{
				"NUL in a relation": map[string]any{"body": "x", "m.relates_to": map[string]any{"rel_type": "m.thread", "event_id": "$a\x00b"}},
				"nested 100 deep":   map[string]any{"body": "x", "deep": deep},
			} {
				outputsBefore := len(pub.outputs())
				ev := rem.build(roomID, bob, "m.room.message", nil, content,
					[]string{join.EventID()}, append(rem.stateIDs(roomID, tCreate, tPL), join.EventID()), 11, time.Now())
				res := rem.input(ev)
				if res.Err == nil || res.Err.Code != api.CodeBadJSON {
					t.Fatalf("%s: got %+v, want a bad-JSON rejection", name, res)
				}
				if len(pub.outputs()) != outputsBefore {
					t.Fatalf("%s: refused event was output", name)
				}
				if evs, _ := rs.QueryEvents(ctx, []matrixid.EventID{matrixid.EventID(ev.EventID())}); len(evs) != 0 {
					t.Fatalf("%s: refused event stored", name)
				}
			}
			ok := rem.build(roomID, bob, "m.room.message", nil, map[string]string{"body": strings.Repeat("fine ", 3)},
				[]string{join.EventID()}, append(rem.stateIDs(roomID, tCreate, tPL), join.EventID()), 11, time.Now())
			if res := rem.input(ok); res.Err != nil {
				t.Fatalf("a good event after refused ones: %+v", res)
			}
		})
	}
}
