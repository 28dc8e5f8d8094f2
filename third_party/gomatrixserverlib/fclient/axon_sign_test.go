package fclient

import (
	"crypto/ed25519"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/matrix-org/gomatrixserverlib"
)

// TestSignMatchesSignJSON: Sign (Axon patch 14) gives the request the
// content and signatures signing through SignJSON gave it, and the
// signature verifies.
func TestSignMatchesSignJSON(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	content := map[string]any{"z": 1, "pdus": []json.RawMessage{json.RawMessage(`{"b":"<&>","a":"h\u00e9"}`)}, "a": map[string]any{"y": -0.0, "x": "\u2028"}}
	for _, withContent := range []bool{true, false} {
		build := func() FederationRequest {
			r := NewFederationRequest("PUT", "origin.example", "dest.example", "/_matrix/federation/v1/send/1")
			if withContent {
				if err := r.SetContent(content); err != nil {
					t.Fatal(err)
				}
			}
			return r
		}
		got := build()
		if err := got.Sign("origin.example", "ed25519:a", priv); err != nil {
			t.Fatal(err)
		}
		want := build()
		want.fields.Origin = "origin.example"
		data, err := json.Marshal(want.fields)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := gomatrixserverlib.SignJSON("origin.example", "ed25519:a", priv, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(signed, &want.fields); err != nil {
			t.Fatal(err)
		}
		if string(got.fields.Content) != string(want.fields.Content) || !reflect.DeepEqual(got.fields.Signatures, want.fields.Signatures) {
			t.Fatalf("content %s signatures %v, want %s %v", got.fields.Content, got.fields.Signatures, want.fields.Content, want.fields.Signatures)
		}
		all, err := json.Marshal(got.fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := gomatrixserverlib.VerifyJSON("origin.example", "ed25519:a", pub, all); err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
	}
}
