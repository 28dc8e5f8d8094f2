package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestAppservicePolylith runs the appservice component in a process of
// its own: it consumes the streams and pushes to the bridge, while the
// edge process answers the bridge's client requests and reaches the
// component (ping, alias queries) over NATS RPC.
func TestAppservicePolylith(t *testing.T) {
	if os.Getenv("AXON_SKIP_NATS") == "1" {
		t.Skip("needs the external NATS server")
	}
	br := newTestBridge(t, "bridge", nil)
	regFile := br.file("")
	prefix := fmt.Sprintf("axonaspoly%d", time.Now().UnixNano())
	edgeAddr := testserver.FreeLoopbackAddr(t)
	mk := func(components ...string) *config.Config {
		cfg := testserver.NewConfig(t, testserver.Options{ExternalNATS: true, Configure: func(c *config.Config) {
			c.NATS.Prefix = prefix
			c.Components = components
			c.AppServicePaths = []string{regFile}
		}})
		cfg.ServerName = edgeAddr
		return cfg
	}
	edgeCfg := mk("clientapi", "syncapi")
	edgeCfg.Listeners.Client.Address = edgeAddr
	if err := edgeCfg.LoadSigningKey(); err != nil {
		t.Fatal(err)
	}
	coreCfg := mk("userapi", "roomserver", "keyserver")
	asCfg := mk("appservice")
	for _, c := range []*config.Config{coreCfg, asCfg} {
		c.Listeners.Client.Address = "127.0.0.1:0"
		c.SigningKeyPath = edgeCfg.ResolvePath("signing.key")
	}
	core := testserver.StartWithConfig(t, coreCfg)
	asProc := testserver.StartWithConfig(t, asCfg)
	edge := testserver.StartWithConfig(t, edgeCfg)
	if edge.Server.AS != nil || core.Server.AS != nil || asProc.Server.AS == nil {
		t.Fatal("appservice component not where configured")
	}
	br.attach(edge)

	if _, err := br.AS.BotClient().AppservicePing(asCtx, "bridge", "poly"); err != nil {
		t.Fatalf("ping through the edge over RPC: %v", err)
	}
	ghostID := id.NewUserID("_bridge_poly", edgeAddr)
	ghost := br.AS.Intent(ghostID)
	if err := ghost.EnsureRegistered(asCtx); err != nil {
		t.Fatal(err)
	}
	alice := edge.Register("alice", "password123")
	room, err := alice.CreateRoom(asCtx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{ghostID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ghost.JoinRoomByID(asCtx, room.RoomID); err != nil {
		t.Fatal(err)
	}
	syncSend(t, alice, room.RoomID, "poly hello")
	br.waitFor("the message pushed by the appservice process", func() bool { return len(br.bodies("poly")) == 1 })

	// Alias query from the edge, answered by the bridge via the component.
	if _, err := alice.JoinRoom(asCtx, "#_bridge_poly:"+edgeAddr, nil); err != nil {
		t.Fatalf("join via alias query over RPC: %v", err)
	}
}
