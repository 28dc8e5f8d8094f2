package roomserver

import (
	"context"
	"slices"
	"testing"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/roomserver/api"
)

// TestNetworkDirectories: rooms an appservice lists for a network appear
// only under its third_party_instance_id (and with include_all_networks),
// not in the server's own directory.
func TestNetworkDirectories(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			rs, _ := newTestServer(t, b.NewDSN(t))
			owner := "@owner:" + testServer
			bridged := createTestRoom(t, rs, owner, "10", "invite")
			public := createTestRoom(t, rs, owner, "10", "public")
			if err := rs.SetRoomVisibility(ctx, matrixid.RoomID(public), "public"); err != nil {
				t.Fatal(err)
			}
			if err := rs.SetNetworkRoomVisibility(ctx, "irc", "libera", matrixid.RoomID(bridged), "public"); err != nil {
				t.Fatal(err)
			}
			if err := rs.SetNetworkRoomVisibility(ctx, "irc", "libera", "!unknown:"+testServer, "public"); err == nil {
				t.Fatal("unknown room accepted")
			}
			ids := func(req *api.PublicRoomsRequest) []string {
				resp, err := rs.QueryPublicRooms(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range resp.Chunk {
					out = append(out, r.RoomID)
				}
				slices.Sort(out)
				return out
			}
			both := []string{bridged, public}
			slices.Sort(both)
			for name, c := range map[string]struct {
				req  *api.PublicRoomsRequest
				want []string
			}{
				"server directory": {&api.PublicRoomsRequest{}, []string{public}},
				"network":          {&api.PublicRoomsRequest{ThirdPartyInstanceID: "irc|libera"}, []string{bridged}},
				"other network":    {&api.PublicRoomsRequest{ThirdPartyInstanceID: "irc|oftc"}, nil},
				"all networks":     {&api.PublicRoomsRequest{AllNetworks: true}, both},
			} {
				if got := ids(c.req); !slices.Equal(got, c.want) {
					t.Errorf("%s: got %v, want %v", name, got, c.want)
				}
			}
			if err := rs.SetNetworkRoomVisibility(ctx, "irc", "libera", matrixid.RoomID(bridged), "private"); err != nil {
				t.Fatal(err)
			}
			if got := ids(&api.PublicRoomsRequest{ThirdPartyInstanceID: "irc|libera"}); got != nil {
				t.Fatalf("unlisted room still listed: %v", got)
			}
		})
	}
}
