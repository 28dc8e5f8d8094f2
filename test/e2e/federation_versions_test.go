package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/axon-hs/axon/internal/matrixrules"
	"github.com/axon-hs/axon/server/testserver"
)

// TestFederationMakeJoinVersions: the room versions Axon offers in
// make_join's ver are exactly those createRoom accepts: a remote server
// (here a stand-in that records the request) sees each supported version
// once and nothing else, and createRoom succeeds with each of them.
func TestFederationMakeJoinVersions(t *testing.T) {
	vers := make(chan []string, 4)
	remote := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/_matrix/federation/v1/make_join/") {
			vers <- req.URL.Query()["ver"]
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errcode":"M_NOT_FOUND","error":"no such room"}`))
	}))
	defer remote.Close()
	remoteName := strings.TrimPrefix(remote.URL, "https://")

	inst := testserver.Start(t, testserver.Options{Configure: testserver.Federated(t)})
	c := inst.Register("joiner", "password123")
	v3 := inst.URL + "/_matrix/client/v3"
	r := acctDo(t, "POST", v3+"/join/"+url.PathEscape("!room:"+remoteName)+"?server_name="+url.QueryEscape(remoteName), c.AccessToken, `{}`)
	if r.Status == http.StatusOK {
		t.Fatalf("join through a server without the room succeeded: %s", r.Raw)
	}
	var got []string
	select {
	case got = <-vers:
	default:
		t.Fatalf("the remote server got no make_join (join answered %d %s)", r.Status, r.Raw)
	}
	if !slices.Equal(got, matrixrules.SupportedVersions) {
		t.Fatalf("make_join ver = %v, want %v", got, matrixrules.SupportedVersions)
	}
	for _, v := range got {
		if r := acctDo(t, "POST", v3+"/createRoom", c.AccessToken, `{"room_version":"`+v+`"}`); r.Status != http.StatusOK {
			t.Fatalf("createRoom with advertised version %s: %d %s", v, r.Status, r.Raw)
		}
	}
}
