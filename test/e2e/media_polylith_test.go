package e2e

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestPolylithMedia runs mediaapi alone in a process of its own: tokens
// issued by the core's userapi are checked over NATS RPC, and media
// uploaded there is served there.
func TestPolylithMedia(t *testing.T) {
	if os.Getenv("AXON_SKIP_NATS") == "1" {
		t.Skip("needs the external NATS server")
	}
	prefix := fmt.Sprintf("axonpolymedia%d", time.Now().UnixNano())
	mk := func(components ...string) *config.Config {
		return testserver.NewConfig(t, testserver.Options{ExternalNATS: true, Configure: func(c *config.Config) {
			c.NATS.Prefix = prefix
			c.Components = components
		}})
	}
	coreCfg := mk("userapi", "roomserver", "keyserver", "clientapi")
	mediaCfg := mk("mediaapi")
	coreAddr := testserver.FreeLoopbackAddr(t)
	coreCfg.ServerName, coreCfg.Listeners.Client.Address = coreAddr, coreAddr
	mediaCfg.ServerName = coreAddr
	mediaCfg.Listeners.Client.Address = testserver.FreeLoopbackAddr(t)
	mediaCfg.SigningKeyPath = coreCfg.ResolvePath("signing.key")
	if err := coreCfg.LoadSigningKey(); err != nil {
		t.Fatal(err)
	}
	core := testserver.StartWithConfig(t, coreCfg)
	media := testserver.StartWithConfig(t, mediaCfg)
	if core.Server.Media != nil || media.Server.Media == nil || media.Server.Users != nil {
		t.Fatal("components not split as configured")
	}

	alice := core.Register("alice", "password123")
	viaMedia, err := mautrix.NewClient(media.URL, alice.UserID, alice.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("uploaded to the media process")
	uri := mediaUpload(t, viaMedia, data, "text/plain", "")
	if _, got := mediaDownload(t, viaMedia, uri); !bytes.Equal(got, data) {
		t.Fatal("download from the media process differs")
	}
	status, _, _ := mediaGet(t, media.URL+"/_matrix/client/v1/media/download/"+uri.Homeserver+"/"+uri.FileID, "not-a-token")
	if status != 401 {
		t.Fatalf("bad token at the media process: %d", status)
	}
}
