package federationapi

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"

	fedapi "github.com/axon-hs/axon/federationapi/api"
)

// fakeKeys answers key queries and claims for any user and records
// which users it was asked about.
type fakeKeys struct {
	ksapi.KeyserverAPI
	mu    sync.Mutex
	asked []string
}

func (k *fakeKeys) QueryKeys(_ context.Context, req *ksapi.QueryKeysRequest) (*ksapi.QueryKeysResponse, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	resp := &ksapi.QueryKeysResponse{DeviceKeys: map[string]map[string]json.RawMessage{},
		MasterKeys: map[string]json.RawMessage{}, SelfSigningKeys: map[string]json.RawMessage{},
		UserSigningKeys: map[string]json.RawMessage{}}
	for u := range req.DeviceKeys {
		k.asked = append(k.asked, u)
		resp.DeviceKeys[u] = map[string]json.RawMessage{"DEV": json.RawMessage(`{"user_id":"` + u + `","device_id":"DEV"}`)}
		resp.UserSigningKeys[u] = json.RawMessage(`{"secret":true}`)
		// Keys filed under the wrong device or user are dropped by the asker.
		resp.DeviceKeys[u]["FAKE"] = json.RawMessage(`{"user_id":"` + u + `","device_id":"DEV"}`)
		resp.MasterKeys[u] = json.RawMessage(`{"user_id":"@someone:else"}`)
		resp.SelfSigningKeys[u] = json.RawMessage(`{"user_id":"` + u + `"}`)
	}
	return resp, nil
}

func (k *fakeKeys) ClaimKeys(_ context.Context, req *ksapi.ClaimKeysRequest) (*ksapi.ClaimKeysResponse, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	resp := &ksapi.ClaimKeysResponse{OneTimeKeys: map[string]map[string]map[string]json.RawMessage{}}
	for u, devs := range req.OneTimeKeys {
		k.asked = append(k.asked, u)
		resp.OneTimeKeys[u] = map[string]map[string]json.RawMessage{}
		for d, alg := range devs {
			resp.OneTimeKeys[u][d] = map[string]json.RawMessage{alg + ":AAA": json.RawMessage(`{"key":"k"}`)}
		}
	}
	return resp, nil
}

func (k *fakeKeys) LocalUserDevices(_ context.Context, userID matrixid.UserID) (*ksapi.UserDevices, error) {
	return &ksapi.UserDevices{UserID: string(userID), StreamID: 3, Devices: []ksapi.DeviceKeys{{DeviceID: "DEV", DisplayName: "phone",
		Keys: json.RawMessage(`{"user_id":"` + userID + `","device_id":"DEV"}`)}}}, nil
}

// fakeUsers knows every account.
type fakeUsers struct{ uapi.UserAPI }

func (fakeUsers) QueryAccount(_ context.Context, userID matrixid.UserID) (*uapi.Account, error) {
	return &uapi.Account{UserID: string(userID)}, nil
}

// Key queries and claims between two federation components: only the
// answering server's own users reach its keyserver, user-signing keys
// never leave it, and bad bodies get Matrix errors.
func TestFederationUserKeys(t *testing.T) {
	backend := storagetest.Backends()[0]
	a, b := startServer(t, backend.NewDSN), startServer(t, backend.NewDSN)
	ks := &fakeKeys{}
	a.api.keyAPI, a.api.users = ks, fakeUsers{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, eve := "@alice:"+a.name, "@eve:"+b.name

	q, err := b.api.QueryRemoteKeys(ctx, a.name, map[string][]string{alice: nil, eve: nil})
	if err != nil {
		t.Fatal(err)
	}
	if q.DeviceKeys[alice]["DEV"] == nil || q.DeviceKeys[alice]["FAKE"] != nil || q.DeviceKeys[eve] != nil ||
		len(q.UserSigningKeys) != 0 || q.MasterKeys[alice] != nil || q.SelfSigningKeys[alice] == nil {
		t.Fatalf("query answer: %+v", q)
	}
	c, err := b.api.ClaimRemoteKeys(ctx, a.name, map[string]map[string]string{alice: {"DEV": "signed_curve25519"}, eve: {"X": "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.OneTimeKeys[alice]["DEV"]["signed_curve25519:AAA"] == nil || c.OneTimeKeys[eve] != nil {
		t.Fatalf("claim answer: %+v", c)
	}
	if len(ks.asked) != 2 || ks.asked[0] != alice || ks.asked[1] != alice {
		t.Fatalf("keyserver asked about %v, want only alice", ks.asked)
	}

	devs, err := b.api.Client.GetUserDevices(ctx, b.api.id.ServerName, a.api.id.ServerName, alice)
	if err != nil || devs.StreamID != 3 || len(devs.Devices) != 1 || devs.Devices[0].DisplayName != "phone" {
		t.Fatalf("user devices: %+v %v", devs, err)
	}

	var fe *fedapi.Error
	bad := map[string]any{"device_keys": 5}
	if err := b.api.remoteKeyRequest(ctx, a.name, "/_matrix/federation/v1/user/keys/query", bad, &struct{}{}); !errors.As(err, &fe) || fe.Code != "M_BAD_JSON" {
		t.Fatalf("bad query body: %v", err)
	}
	if err := b.api.remoteKeyRequest(ctx, a.name, "/_matrix/federation/v1/user/keys/claim", map[string]any{}, &struct{}{}); !errors.As(err, &fe) || fe.Code != "M_BAD_JSON" {
		t.Fatalf("claim without one_time_keys: %v", err)
	}
	if _, err := b.api.QueryRemoteKeys(ctx, b.name, map[string][]string{eve: nil}); err == nil {
		t.Fatal("asking ourselves over federation succeeded")
	}
}

// Inbound device list EDUs become DeviceListUpdates for the sender's
// users only, with keys that belong to the device they announce.
func TestInboundDeviceListEDUs(t *testing.T) {
	a := startServer(t, storagetest.Backends()[0].NewDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	origin := "remote.example"
	st, err := a.base.Stream(ctx, stream.DeviceListUpdates)
	if err != nil {
		t.Fatal(err)
	}
	after, err := st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edus := []inboundEDU{
		{Type: "m.device_list_update", Content: json.RawMessage(`{"user_id":"@x:other.example","device_id":"D","stream_id":1}`)},
		{Type: "m.device_list_update", Content: json.RawMessage(`{"user_id":"@u:remote.example","device_id":"D","stream_id":2,"keys":{"user_id":"@u:remote.example","device_id":"OTHER"}}`)},
		{Type: "m.signing_key_update", Content: json.RawMessage(`{"user_id":"@u:remote.example","master_key":{"user_id":"@v:remote.example"}}`)},
		{Type: "m.device_list_update", Content: json.RawMessage(`{"user_id":"@u:remote.example","device_id":"D","stream_id":5,"prev_id":[4],"device_display_name":"p","keys":{"user_id":"@u:remote.example","device_id":"D"}}`)},
		{Type: "m.signing_key_update", Content: json.RawMessage(`{"user_id":"@u:remote.example","master_key":{"user_id":"@u:remote.example"}}`)},
	}
	a.api.processEDUs(ctx, "remote.example", edus)

	var mu sync.Mutex
	var got []ksapi.DeviceListUpdate
	var decodeErr error
	cctx, stop := context.WithCancel(ctx)
	done, err := st.Consume(cctx, "test", after, func(_ context.Context, m stream.Message, cause error) error {
		t.Errorf("update %d dead-lettered: %v", m.Seq, cause)
		return nil
	}, func(_ context.Context, m stream.Message) error {
		var u ksapi.DeviceListUpdate
		err := json.Unmarshal(m.Data, &u)
		mu.Lock()
		got = append(got, u)
		decodeErr = errors.Join(decodeErr, err)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "two updates", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 2 })
	stop()
	<-done
	if decodeErr != nil {
		t.Fatal(decodeErr)
	}
	if len(got) != 2 {
		t.Fatalf("published %d updates, want 2: %+v", len(got), got)
	}
	d, s := got[0], got[1]
	if d.UserID != "@u:"+origin || d.DeviceID != "D" || d.StreamID != 5 || d.DisplayName != "p" || len(d.PrevID) != 1 || len(d.Keys) == 0 {
		t.Fatalf("device update: %+v", d)
	}
	if s.UserID != "@u:"+origin || s.DeviceID != "" || len(s.MasterKey) == 0 {
		t.Fatalf("signing key update: %+v", s)
	}
}

// Outbound EDU content follows the spec's field names.
func TestDeviceListEDU(t *testing.T) {
	typ, c := deviceListEDU(&ksapi.DeviceListUpdate{UserID: "@a:s", DeviceID: "D", StreamID: 2, DisplayName: "n", Keys: json.RawMessage(`{}`)})
	b, _ := json.Marshal(c)
	if typ != "m.device_list_update" || string(b) != `{"deleted":false,"device_display_name":"n","device_id":"D","keys":{},"prev_id":[],"stream_id":2,"user_id":"@a:s"}` {
		t.Fatalf("%s %s", typ, b)
	}
	typ, c = deviceListEDU(&ksapi.DeviceListUpdate{UserID: "@a:s", DeviceID: "D", StreamID: 3, PrevID: []int64{2}, Deleted: true, Keys: json.RawMessage(`{}`)})
	b, _ = json.Marshal(c)
	if string(b) != `{"deleted":true,"device_id":"D","prev_id":[2],"stream_id":3,"user_id":"@a:s"}` {
		t.Fatalf("%s %s", typ, b)
	}
	typ, c = deviceListEDU(&ksapi.DeviceListUpdate{UserID: "@a:s", MasterKey: json.RawMessage(`{"m":1}`)})
	b, _ = json.Marshal(c)
	if typ != "m.signing_key_update" || string(b) != `{"master_key":{"m":1},"user_id":"@a:s"}` {
		t.Fatalf("%s %s", typ, b)
	}
}
