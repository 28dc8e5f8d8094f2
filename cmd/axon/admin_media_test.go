package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"maunium.net/go/mautrix"

	"github.com/axon-hs/axon/server/testserver"
)

// TestAdminCLIMedia drives `axon admin media ...` against a running test
// server: list, quarantine (one file, undo, a user's), delete, delete by
// age and purge of the remote cache, and refusals of bad arguments.
func TestAdminCLIMedia(t *testing.T) {
	inst := testserver.Start(t, testserver.Options{})
	ctx := context.Background()
	_, err := inst.Server.UserAPI.CreateAccount(ctx, "ops", "opspass12", true)
	must(t, err)
	token := loginToken(t, inst.URL, "ops", "opspass12")
	bob := inst.Register("bob", "password1")
	up := func(data string) string {
		t.Helper()
		resp, err := bob.UploadMedia(ctx, mautrix.ReqUploadMedia{ContentBytes: []byte(data), ContentType: "text/plain", FileName: "f.txt"})
		must(t, err)
		return resp.ContentURI.String()
	}
	first, second := up("first file"), up("second file")
	served := func(mxc string) bool {
		t.Helper()
		req, err := http.NewRequest("GET", inst.URL+"/_matrix/client/v1/media/download/"+strings.TrimPrefix(mxc, "mxc://"), nil)
		must(t, err)
		req.Header.Set("Authorization", "Bearer "+bob.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode == 200
	}

	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := adminCmd(ctx, append([]string{"--url", inst.URL, "--token", token, "media"}, args...), &out)
		return out.String(), err
	}
	ok := func(want string, args ...string) {
		t.Helper()
		out, err := run(args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("axon admin media %s: %v\n%s (want %q)", strings.Join(args, " "), err, out, want)
		}
	}
	ok("2 of 2 files", "list", "--user", "bob")
	ok("quarantine done", "quarantine", "--mxc", first)
	if served(first) {
		t.Fatal("quarantined file served")
	}
	ok("unquarantine done", "quarantine", "--mxc", first, "--undo")
	if !served(first) {
		t.Fatal("file not served after --undo")
	}
	ok("2 files quarantined", "quarantine", "--user", "bob")
	ok("deleted", "delete", "--mxc", first)
	ok("1 of 1 files", "list", "--user", "bob")
	ok("0 cached remote files purged", "purge-remote", "--older-than", "1ms")
	ok("1 local files deleted", "delete-old", "--older-than", "1ms")
	if served(second) {
		t.Fatal("file deleted by age still served")
	}
	for _, bad := range [][]string{
		{"quarantine"}, {"quarantine", "--mxc", first, "--room", "!r:x"}, {"quarantine", "--room", "!r:x", "--undo"},
		{"delete", "--mxc", "https://x/y"}, {"delete-old"}, {"purge-remote"}, {"list"},
	} {
		if out, err := run(bad...); err == nil {
			t.Errorf("axon admin media %s succeeded: %s", strings.Join(bad, " "), out)
		}
	}
}
