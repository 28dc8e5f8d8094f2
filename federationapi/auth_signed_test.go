package federationapi

import (
	"encoding/json"
	"testing"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
)

// TestSignedRequestCanonical: the signed object built by hand
// canonicalises to the bytes a marshalled object does.
func TestSignedRequestCanonical(t *testing.T) {
	for _, c := range []struct{ uri, body string }{
		{"/_matrix/federation/v1/send/1", `{"pdus":[{"b":1,"a":"<&>"}],"origin":"b.example"}`},
		{"/_matrix/federation/v1/query/profile?user_id=%40a%3Ab&field=<x>\u2028é\"\\", ""},
		{"/x", " { \"z\" : [ 1 , -0 ] , \"a\" : \"\\u00e9\\n\" } "},
	} {
		want := struct {
			Method      string          `json:"method"`
			URI         string          `json:"uri"`
			Origin      spec.ServerName `json:"origin"`
			Destination spec.ServerName `json:"destination"`
			Content     json.RawMessage `json:"content,omitempty"`
		}{"PUT", c.uri, "b.example", "a.example", nil}
		if c.body != "" {
			want.Content = json.RawMessage(c.body)
		}
		marshalled, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		wantCanon, err := gomatrixserverlib.CanonicalJSON(marshalled)
		if err != nil {
			t.Fatal(err)
		}
		got, err := gomatrixserverlib.CanonicalJSON(signedRequest("PUT", c.uri, "b.example", "a.example", []byte(c.body)))
		if err != nil {
			t.Fatalf("%q: %v", c.uri, err)
		}
		if string(got) != string(wantCanon) {
			t.Fatalf("got %s\nwant %s", got, wantCanon)
		}
	}
}
