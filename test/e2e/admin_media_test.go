package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/federationapi"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/server/testserver"
)

// adminMediaURL is a client download (or, with thumb, thumbnail) URL.
func adminMediaURL(inst *testserver.Instance, uri id.ContentURI, thumb bool) string {
	base := inst.Client().HomeserverURL.String() + "/_matrix/client/v1/media/"
	if thumb {
		return base + "thumbnail/" + uri.Homeserver + "/" + uri.FileID + "?width=32&height=32&method=scale"
	}
	return base + "download/" + uri.Homeserver + "/" + uri.FileID
}

// adminMediaServed reports whether uri downloads (200) or is refused with
// 404 M_NOT_FOUND; anything else fails the test.
func adminMediaServed(t *testing.T, inst *testserver.Instance, c *mautrix.Client, uri id.ContentURI, thumb bool) bool {
	t.Helper()
	status, _, body := mediaGet(t, adminMediaURL(inst, uri, thumb), c.AccessToken)
	switch {
	case status == 200:
		return true
	case status == 404:
		var e struct{ ErrCode string }
		if json.Unmarshal(body, &e) == nil && e.ErrCode == "M_NOT_FOUND" {
			return false
		}
	}
	t.Fatalf("GET %s: %d %s", adminMediaURL(inst, uri, thumb), status, body)
	return false
}

// adminMediaFiles are the stored files (hashes) of uri and its
// thumbnails, each checked to be in the store.
func adminMediaFiles(t *testing.T, inst *testserver.Instance, uri id.ContentURI) []string {
	t.Helper()
	shas, err := inst.Server.Media.FilesOf(context.Background(), uri.Homeserver, uri.FileID)
	must(t, err)
	for _, sha := range shas {
		ok, err := inst.Server.Media.FileStored(context.Background(), sha)
		must(t, err)
		if !ok {
			t.Fatalf("file %s of %s is not in the store", sha, uri)
		}
	}
	return shas
}

// adminMediaGone checks that no file of shas is left in the store.
func adminMediaGone(t *testing.T, inst *testserver.Instance, shas []string) {
	t.Helper()
	for _, sha := range shas {
		ok, err := inst.Server.Media.FileStored(context.Background(), sha)
		must(t, err)
		if ok {
			t.Errorf("file %s is still stored", sha)
		}
	}
}

func adminMediaIDs(r roomsRaw, key string) map[string]bool {
	out := map[string]bool{}
	for _, v := range adminList(r, key) {
		if m, ok := v.(map[string]any); ok {
			v = m["media_id"]
		}
		s, _ := v.(string)
		out[s] = true
	}
	return out
}

// TestAdminMedia: a user's media listed (paging, order) and deleted,
// quarantine of one file, a user's and a room's media (protected files
// spared; quarantined media neither downloads nor thumbnails),
// unquarantine, media info, deleting one file (its files and thumbnails
// leave the store) and deleting by age keeping profile pictures, on both
// engines.
func TestAdminMedia(t *testing.T) {
	testserver.ForEachBackend(t, func(t *testing.T, opts testserver.Options) {
		ctx := context.Background()
		inst := testserver.Start(t, opts)
		admin := adminUser(t, inst, "root")
		alice := inst.Register("alice", "password1")
		bob := inst.Register("bob", "password1")
		hs := inst.Cfg.ServerName
		au := url.PathEscape(alice.UserID.String())

		img := mediaUpload(t, alice, mediaPNG(t, 300, 200), "image/png", "pic.png")
		txt := mediaUpload(t, alice, []byte("hello"), "text/plain", "note.txt")
		zip := mediaUpload(t, alice, make([]byte, 5000), "application/zip", "")
		bobImg := mediaUpload(t, bob, mediaJPEG(t, 200, 200), "image/jpeg", "bob.jpg")

		// Listing: paging, order, Synapse's fields.
		r := adminDo(t, admin, "GET", "/v1/users/"+au+"/media?limit=2", nil)
		if r.Status != 200 || r.Body["total"] != float64(3) || len(adminList(r, "media")) != 2 || r.Body["next_token"] != float64(2) {
			t.Fatalf("first page: %d %v", r.Status, r.Body)
		}
		first := adminList(r, "media")[0].(map[string]any)
		for _, k := range []string{"media_id", "media_type", "media_length", "upload_name", "created_ts", "last_access_ts", "quarantined_by", "safe_from_quarantine"} {
			if _, ok := first[k]; !ok {
				t.Errorf("media entry lacks %s: %v", k, first)
			}
		}
		if first["media_id"] != img.FileID || first["upload_name"] != "pic.png" || first["media_type"] != "image/png" || first["quarantined_by"] != nil {
			t.Errorf("oldest first: %v", first)
		}
		r = adminDo(t, admin, "GET", "/v1/users/"+au+"/media?from=2", nil)
		if len(adminList(r, "media")) != 1 || r.Body["next_token"] != nil {
			t.Fatalf("last page: %v", r.Body)
		}
		r = adminDo(t, admin, "GET", "/v1/users/"+au+"/media?order_by=media_length&dir=b", nil)
		if l := adminList(r, "media"); len(l) != 3 || l[0].(map[string]any)["media_id"] != zip.FileID || l[2].(map[string]any)["media_id"] != txt.FileID {
			t.Fatalf("by size, largest first: %v", r.Body)
		}
		for path, want := range map[string]int{
			"/v1/users/" + au + "/media?order_by=sha256":                                 400,
			"/v1/users/" + au + "/media?dir=x":                                           400,
			"/v1/users/" + au + "/media?from=-1":                                         400,
			"/v1/users/" + url.PathEscape("@nobody:"+hs) + "/media":                      404,
			"/v1/users/" + url.PathEscape("@x:elsewhere.example") + "/media":             400,
			"/v1/media/" + hs + "/nosuchmedia":                                           404,
			"/v1/room/" + url.PathEscape("!nope:"+hs) + "/media":                         404,
			"/v1/media/" + hs + "/" + url.PathEscape("bad id") + "?x=" + strconv.Itoa(1): 400,
		} {
			if got := adminDo(t, admin, "GET", path, nil); got.Status != want {
				t.Errorf("GET %s: %d %v, want %d", path, got.Status, got.Body, want)
			}
		}

		// Quarantine one file: no download, no thumbnail; unquarantine.
		if !adminMediaServed(t, inst, bob, img, true) {
			t.Fatal("thumbnail before quarantine")
		}
		if r := adminDo(t, admin, "POST", "/v1/media/quarantine/"+hs+"/"+img.FileID, nil); r.Status != 200 {
			t.Fatalf("quarantine: %d %v", r.Status, r.Body)
		}
		if adminMediaServed(t, inst, bob, img, false) || adminMediaServed(t, inst, alice, img, true) {
			t.Fatal("quarantined media still served")
		}
		r = adminDo(t, admin, "GET", "/v1/media/"+hs+"/"+img.FileID, nil)
		info, _ := r.Body["media_info"].(map[string]any)
		if r.Status != 200 || info["quarantined_by"] != admin.UserID.String() || info["user_id"] != alice.UserID.String() ||
			info["media_length"] == float64(0) || info["upload_name"] != "pic.png" || info["safe_from_quarantine"] != false {
			t.Fatalf("media info: %d %v", r.Status, r.Body)
		}
		if r := adminDo(t, admin, "POST", "/v1/media/unquarantine/"+hs+"/"+img.FileID, nil); r.Status != 200 {
			t.Fatalf("unquarantine: %d %v", r.Status, r.Body)
		}
		if !adminMediaServed(t, inst, bob, img, false) || !adminMediaServed(t, inst, bob, img, true) {
			t.Fatal("unquarantined media not served")
		}
		if r := adminDo(t, admin, "POST", "/v1/media/quarantine/"+hs+"/nosuchmedia", nil); r.Status != 404 {
			t.Fatalf("quarantine unknown local media: %d %v", r.Status, r.Body)
		}

		// A user's media, the protected file spared.
		if r := adminDo(t, admin, "POST", "/v1/media/protect/"+txt.FileID, nil); r.Status != 200 {
			t.Fatalf("protect: %d %v", r.Status, r.Body)
		}
		r = adminDo(t, admin, "POST", "/v1/user/"+au+"/media/quarantine", nil)
		if r.Status != 200 || r.Body["num_quarantined"] != float64(2) {
			t.Fatalf("quarantine alice's media: %d %v (want 2: note.txt is protected)", r.Status, r.Body)
		}
		if adminMediaServed(t, inst, bob, img, false) || adminMediaServed(t, inst, bob, zip, false) || !adminMediaServed(t, inst, bob, txt, false) {
			t.Fatal("after quarantining alice's media: img and zip must be refused, the protected note served")
		}
		r = adminDo(t, admin, "GET", "/v1/users/"+au+"/media?order_by=safe_from_quarantine&dir=b", nil)
		if l := adminList(r, "media"); len(l) != 3 || l[0].(map[string]any)["safe_from_quarantine"] != true || l[1].(map[string]any)["quarantined_by"] != admin.UserID.String() {
			t.Fatalf("list after quarantine: %v", r.Body)
		}
		for _, u := range []id.ContentURI{img, zip} {
			must(t, adminDo(t, admin, "POST", "/v1/media/unquarantine/"+hs+"/"+u.FileID, nil).err())
		}

		// A room's media: local and remote mxc URIs in its events.
		room := roomsCreate(t, bob, nil)
		remote := id.ContentURI{Homeserver: "remote.invalid", FileID: "cat"}
		_, err := bob.SendMessageEvent(ctx, room, event.EventMessage, map[string]any{"msgtype": "m.image", "body": "x",
			"url": bobImg.String(), "info": map[string]any{"thumbnail_url": remote.String()}})
		must(t, err)
		_, err = bob.SendMessageEvent(ctx, room, event.EventMessage, map[string]any{"msgtype": "m.text", "body": "no media here"})
		must(t, err)
		ru := url.PathEscape(room.String())
		r = adminDo(t, admin, "GET", "/v1/room/"+ru+"/media", nil)
		if l, rl := adminMediaIDs(r, "local"), adminMediaIDs(r, "remote"); r.Status != 200 || len(l) != 1 || !l[bobImg.String()] || len(rl) != 1 || !rl[remote.String()] {
			t.Fatalf("room media: %d %v", r.Status, r.Body)
		}
		r = adminDo(t, admin, "POST", "/v1/room/"+ru+"/media/quarantine", nil)
		if r.Status != 200 || r.Body["num_quarantined"] != float64(2) {
			t.Fatalf("quarantine room media: %d %v", r.Status, r.Body)
		}
		if adminMediaServed(t, inst, alice, bobImg, false) || adminMediaServed(t, inst, alice, bobImg, true) {
			t.Fatal("room media still served")
		}
		if adminMediaServed(t, inst, alice, remote, false) { // refused before any fetch is tried
			t.Fatal("quarantined remote media served")
		}
		if n := inst.Server.Media.RemoteFetches(); n != 0 {
			t.Fatalf("quarantined remote media fetched (%d fetches)", n)
		}
		if r = adminDo(t, admin, "POST", "/v1/room/"+ru+"/media/quarantine", nil); r.Body["num_quarantined"] != float64(0) {
			t.Fatalf("quarantining again: %v", r.Body)
		}

		// Deleting one file takes its thumbnails and stored files.
		if !adminMediaServed(t, inst, alice, img, true) {
			t.Fatal("thumbnail before delete")
		}
		files := adminMediaFiles(t, inst, img)
		if len(files) < 2 {
			t.Fatalf("img has %d stored files, want the original and a thumbnail", len(files))
		}
		r = adminDo(t, admin, "DELETE", "/v1/media/"+hs+"/"+img.FileID, nil)
		if r.Status != 200 || r.Body["total"] != float64(1) || !adminMediaIDs(r, "deleted_media")[img.FileID] {
			t.Fatalf("delete: %d %v", r.Status, r.Body)
		}
		adminMediaGone(t, inst, files)
		if adminMediaServed(t, inst, alice, img, false) {
			t.Fatal("deleted media served")
		}
		if r := adminDo(t, admin, "GET", "/v1/media/"+hs+"/"+img.FileID, nil); r.Status != 404 {
			t.Fatalf("info of deleted media: %d", r.Status)
		}

		// By age: profile pictures and protected media stay.
		avatar := mediaUpload(t, alice, mediaPNG(t, 64, 64), "image/png", "me.png")
		must(t, alice.SetAvatarURL(ctx, avatar))
		roomPic := mediaUpload(t, bob, mediaPNG(t, 48, 48), "image/png", "room.png")
		_, err = bob.SendStateEvent(ctx, room, event.StateRoomAvatar, "", map[string]any{"url": roomPic.String()})
		must(t, err)
		for q, want := range map[string]int{"": 400, "?before_ts=1700000000": 400, "?before_ts=x": 400,
			"?before_ts=" + strconv.FormatInt(time.Now().UnixMilli(), 10) + "&size_gt=-1": 400} {
			if r := adminDo(t, admin, "POST", "/v1/media/delete"+q, nil); r.Status != want {
				t.Errorf("media/delete%s: %d %v", q, r.Status, r.Body)
			}
		}
		if r := adminDo(t, admin, "POST", "/v1/media/delete", nil); r.errcode() != "M_MISSING_PARAM" {
			t.Errorf("media/delete without before_ts: %v", r.Body)
		}
		zipFiles := adminMediaFiles(t, inst, zip)
		now := strconv.FormatInt(time.Now().UnixMilli()+1000, 10)
		r = adminDo(t, admin, "POST", "/v1/media/delete?before_ts="+now+"&size_gt=100", nil)
		if del := adminMediaIDs(r, "deleted_media"); r.Status != 200 || len(del) != 2 || !del[zip.FileID] || !del[bobImg.FileID] {
			t.Fatalf("delete by age and size: %d %v (want zip and bob's image: note is protected and small, avatars kept)", r.Status, r.Body)
		}
		adminMediaGone(t, inst, zipFiles)
		if !adminMediaServed(t, inst, bob, avatar, false) || !adminMediaServed(t, inst, bob, roomPic, false) || !adminMediaServed(t, inst, bob, txt, false) {
			t.Fatal("user or room avatar, or protected media, deleted")
		}
		must(t, adminDo(t, admin, "POST", "/v1/media/unprotect/"+txt.FileID, nil).err())
		r = adminDo(t, admin, "POST", "/v1/media/delete?before_ts="+now+"&keep_profiles=false", nil)
		if del := adminMediaIDs(r, "deleted_media"); len(del) != 3 || !del[avatar.FileID] || !del[roomPic.FileID] || !del[txt.FileID] {
			t.Fatalf("delete with keep_profiles=false: %v", r.Body)
		}

		// A user's media deleted through the list endpoint.
		one := mediaUpload(t, bob, []byte("one"), "text/plain", "")
		two := mediaUpload(t, bob, []byte("two"), "text/plain", "")
		bu := url.PathEscape(bob.UserID.String())
		r = adminDo(t, admin, "DELETE", "/v1/users/"+bu+"/media?limit=1", nil)
		if r.Status != 200 || r.Body["total"] != float64(1) || !adminMediaIDs(r, "deleted_media")[one.FileID] {
			t.Fatalf("delete bob's first page: %d %v", r.Status, r.Body)
		}
		if adminMediaServed(t, inst, bob, one, false) || !adminMediaServed(t, inst, bob, two, false) {
			t.Fatal("only the first of bob's files must be deleted")
		}
		if r = adminDo(t, admin, "GET", "/v1/users/"+bu+"/media", nil); r.Body["total"] != float64(1) {
			t.Fatalf("bob's media after delete: %v", r.Body)
		}
	})
}

// TestAdminMediaForbidden: every media admin route refuses a non-admin
// (403 M_FORBIDDEN) and changes nothing.
func TestAdminMediaForbidden(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	bob := inst.Register("bob", "password1")
	uri := mediaUpload(t, bob, []byte("mine"), "text/plain", "")
	hs := inst.Cfg.ServerName
	u := url.PathEscape(bob.UserID.String())
	room := url.PathEscape(roomsCreate(t, bob, nil).String())
	now := strconv.FormatInt(time.Now().UnixMilli()+1000, 10)
	routes := [][2]string{
		{"GET", "/v1/users/" + u + "/media"},
		{"DELETE", "/v1/users/" + u + "/media"},
		{"GET", "/v1/media/" + hs + "/" + uri.FileID},
		{"DELETE", "/v1/media/" + hs + "/" + uri.FileID},
		{"POST", "/v1/media/delete?before_ts=" + now},
		{"POST", "/v1/purge_media_cache?before_ts=" + now},
		{"POST", "/v1/media/quarantine/" + hs + "/" + uri.FileID},
		{"POST", "/v1/media/unquarantine/" + hs + "/" + uri.FileID},
		{"POST", "/v1/media/protect/" + uri.FileID},
		{"POST", "/v1/media/unprotect/" + uri.FileID},
		{"GET", "/v1/room/" + room + "/media"},
		{"POST", "/v1/room/" + room + "/media/quarantine"},
		{"POST", "/v1/quarantine_media/" + room},
		{"POST", "/v1/user/" + u + "/media/quarantine"},
	}
	for _, rt := range routes {
		if got := adminDo(t, bob, rt[0], rt[1], nil); got.Status != 403 || got.errcode() != "M_FORBIDDEN" {
			t.Errorf("%s %s as non-admin: %d %v, want 403 M_FORBIDDEN", rt[0], rt[1], got.Status, got.Body)
		}
	}
	if !adminMediaServed(t, inst, bob, uri, false) {
		t.Fatal("a refused admin call changed bob's media")
	}
}

// err turns a non-200 answer into an error (for must).
func (r roomsRaw) err() error {
	if r.Status == 200 {
		return nil
	}
	return fmt.Errorf("status %d: %v", r.Status, r.Body)
}

// TestAdminMediaFederation: media quarantined on its own server is
// refused over federation (download and thumbnail); purge_media_cache on
// another server removes its cached copy (row, file and thumbnails), after
// which it is fetched again; quarantining the cached copy there stops it
// being served without a new fetch.
func TestAdminMediaFederation(t *testing.T) {
	a := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	b := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	adminA, adminB := adminUser(t, a, "roota"), adminUser(t, b, "rootb")
	alice := a.Register("alice", "password123")
	bob := b.Register("bob", "password123")
	pic := mediaUpload(t, alice, mediaPNG(t, 400, 300), "image/png", "pic.png")
	secret := mediaUpload(t, alice, mediaPNG(t, 300, 300), "image/png", "secret.png")

	// Cached on B, with a thumbnail.
	if !adminMediaServed(t, b, bob, pic, false) || !adminMediaServed(t, b, bob, pic, true) {
		t.Fatal("remote media not served on B")
	}
	// Quarantined on A before B has it: A refuses B, B refuses bob.
	if r := adminDo(t, adminA, "POST", "/v1/media/quarantine/"+a.Cfg.ServerName+"/"+secret.FileID, nil); r.Status != 200 {
		t.Fatalf("quarantine on A: %d %v", r.Status, r.Body)
	}
	for _, path := range []string{"download/" + secret.FileID, "thumbnail/" + secret.FileID + "?width=32&height=32"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp, err := federationapi.NewRawClient(b.Cfg).Get(ctx, a.Cfg.ServerName, "/_matrix/federation/v1/media/"+path, true)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		must(t, err)
		if resp.StatusCode != 404 || !strings.Contains(string(body), "M_NOT_FOUND") {
			t.Fatalf("federation %s of quarantined media: %d %s", path, resp.StatusCode, body)
		}
	}
	if adminMediaServed(t, b, bob, secret, false) || adminMediaServed(t, b, bob, secret, true) {
		t.Fatal("media quarantined on its server served by B")
	}

	// Purging B's cache removes the copy; it is fetched again on demand.
	files := adminMediaFiles(t, b, pic)
	if len(files) < 2 {
		t.Fatalf("B keeps %d files for the remote picture, want it and a thumbnail", len(files))
	}
	for q, want := range map[string]int{"": 400, "?before_ts=12": 400} {
		if r := adminDo(t, adminB, "POST", "/v1/purge_media_cache"+q, nil); r.Status != want {
			t.Fatalf("purge_media_cache%s: %d %v", q, r.Status, r.Body)
		}
	}
	r := adminDo(t, adminB, "POST", "/v1/purge_media_cache?before_ts="+strconv.FormatInt(time.Now().UnixMilli()+1000, 10), nil)
	if r.Status != 200 || r.Body["deleted"] != float64(1) {
		t.Fatalf("purge on B: %d %v (want 1: the picture)", r.Status, r.Body)
	}
	adminMediaGone(t, b, files)
	if r := adminDo(t, adminB, "GET", "/v1/media/"+a.Cfg.ServerName+"/"+pic.FileID, nil); r.Status != 404 {
		t.Fatalf("purged row still there: %d %v", r.Status, r.Body)
	}
	before := b.Server.Media.RemoteFetches()
	if !adminMediaServed(t, b, bob, pic, false) || b.Server.Media.RemoteFetches() != before+1 {
		t.Fatal("purged remote media not fetched again")
	}

	// Quarantined on B (cached there): refused without asking A.
	if r := adminDo(t, adminB, "POST", "/v1/media/quarantine/"+a.Cfg.ServerName+"/"+pic.FileID, nil); r.Status != 200 {
		t.Fatalf("quarantine on B: %d %v", r.Status, r.Body)
	}
	if adminMediaServed(t, b, bob, pic, false) || adminMediaServed(t, b, bob, pic, true) {
		t.Fatal("remote media quarantined on B still served")
	}
	if r := adminDo(t, adminB, "POST", "/v1/purge_media_cache?before_ts="+strconv.FormatInt(time.Now().UnixMilli()+1000, 10), nil); r.Body["deleted"] != float64(0) {
		t.Fatalf("purge removed a quarantined copy: %v", r.Body)
	}
	if !adminMediaServed(t, a, alice, pic, false) {
		t.Fatal("quarantine on B changed A")
	}
}

// TestAdminMediaS3: deleting media removes its file and thumbnails from an
// S3 bucket (SeaweedFS from scripts/s3-test-server.sh on 127.0.0.1:8333;
// AXON_TEST_S3_ENDPOINT overrides, AXON_SKIP_S3=1 skips).
func TestAdminMediaS3(t *testing.T) {
	if os.Getenv("AXON_SKIP_S3") == "1" {
		t.Skip("AXON_SKIP_S3=1")
	}
	endpoint := os.Getenv("AXON_TEST_S3_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://127.0.0.1:8333"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	inst := testserver.Start(t, testserver.Options{Configure: func(cfg *config.Config) {
		cfg.Media.Storage = "s3"
		cfg.Media.S3 = config.MediaS3{Endpoint: endpoint, Bucket: "axon-e2e-" + hex.EncodeToString(b[:]),
			AccessKey: "axon", SecretKey: "axon-test-secret", Region: "us-east-1", PathStyle: true, Prefix: "media"}
	}})
	admin := adminUser(t, inst, "root")
	alice := inst.Register("alice", "password123")
	img := mediaUpload(t, alice, mediaPNG(t, 400, 300), "image/png", "")
	if !adminMediaServed(t, inst, alice, img, true) {
		t.Fatal("S3 thumbnail not served")
	}
	files := adminMediaFiles(t, inst, img)
	if len(files) < 2 {
		t.Fatalf("%d stored files, want the original and a thumbnail", len(files))
	}
	if r := adminDo(t, admin, "DELETE", "/v1/media/"+inst.Cfg.ServerName+"/"+img.FileID, nil); r.Status != 200 {
		t.Fatalf("delete: %d %v", r.Status, r.Body)
	}
	adminMediaGone(t, inst, files)
}
