package e2e

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// TestPolylithMedia runs mediaapi alone in a process of its own: tokens
// issued by the core's userapi are checked over NATS RPC, and media
// uploaded there is served there; the admin API in the core reaches its
// media administration over NATS RPC.
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

	// The admin API (in the core) reaches mediaapi over NATS RPC.
	admin := adminUser(t, core, "root")
	r := adminDo(t, admin, "GET", "/v1/users/"+url.PathEscape(alice.UserID.String())+"/media", nil)
	if l := adminList(r, "media"); r.Status != 200 || len(l) != 1 || l[0].(map[string]any)["media_id"] != uri.FileID {
		t.Fatalf("user media through the core: %d %v", r.Status, r.Body)
	}
	if r := adminDo(t, admin, "POST", "/v1/media/quarantine/"+uri.Homeserver+"/"+uri.FileID, nil); r.Status != 200 {
		t.Fatalf("quarantine through the core: %d %v", r.Status, r.Body)
	}
	if status, _, _ := mediaGet(t, media.URL+"/_matrix/client/v1/media/download/"+uri.Homeserver+"/"+uri.FileID, alice.AccessToken); status != 404 {
		t.Fatalf("quarantined media from the media process: %d", status)
	}
	if r := adminDo(t, admin, "GET", "/v1/media/"+uri.Homeserver+"/nosuchmedia", nil); r.Status != 404 {
		t.Fatalf("unknown media through the core: %d %v (the sentinel must survive RPC)", r.Status, r.Body)
	}
}
