package federationapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/federationapi/keys"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/matrixid"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/internal/testutil"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// fakeRooms is the slice of a roomserver these tests need; other methods
// panic (nil embedded interface).
type fakeRooms struct {
	rsapi.RoomserverAPI
	mu       sync.Mutex
	versions map[string]string
	inputs   []*rsapi.Event
	// missingPrev: events reported as having these prev events missing.
	missingPrev map[string][]string
	// refuse: events whose input fails (not stored).
	refuse map[string]bool
	// givenState: the StateEventIDs of the last input with HasState.
	givenState []string
}

// QueryForwardExtremities: none (the gap tests ask for them).
func (r *fakeRooms) QueryForwardExtremities(context.Context, matrixid.RoomID) ([]matrixid.EventID, error) {
	return []matrixid.EventID{}, nil
}

func (r *fakeRooms) QueryRoomVersion(_ context.Context, roomID matrixid.RoomID) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.versions[string(roomID)]; ok {
		return v, nil
	}
	return "", rsapi.ErrRoomNotFound
}

func (r *fakeRooms) InputRoomEvents(_ context.Context, req *rsapi.InputRoomEventsRequest) (*rsapi.InputRoomEventsResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	resp := &rsapi.InputRoomEventsResponse{}
	for _, in := range req.Events {
		r.inputs = append(r.inputs, in.Event)
		res := rsapi.InputResult{EventID: matrixid.EventID(in.Event.EventID())}
		if missing := r.missingPrev[in.Event.EventID()]; len(missing) > 0 && !in.HasState {
			res.MissingPrevEvents = missing
		}
		if r.refuse[in.Event.EventID()] {
			res.Err = rsapi.Errorf(rsapi.CodeNotFound, "missing auth events")
		}
		if in.HasState {
			r.givenState = in.StateEventIDs
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}

func (r *fakeRooms) QueryEvents(context.Context, []matrixid.EventID) ([]*rsapi.Event, error) {
	return nil, nil
}

// QueryCurrentState: no state, so no server ACL.
func (r *fakeRooms) QueryCurrentState(context.Context, matrixid.RoomID, []rsapi.StateKey) ([]*rsapi.Event, error) {
	return nil, nil
}

func (r *fakeRooms) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, e := range r.inputs {
		ids = append(ids, e.EventID())
	}
	return ids
}

type testServer struct {
	name  string
	api   *FederationAPI
	rooms *fakeRooms
	base  *setup.Base
	url   string
}

var natsPrefix atomic.Int64

// startServer runs a federation component behind a real TLS listener on
// loopback; its server name is that listener's address.
func startServer(t *testing.T, newDSN func(testing.TB) string) *testServer {
	t.Helper()
	ctx := context.Background()
	var handler atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)

	cfg := config.Defaults()
	cfg.ServerName = srv.Listener.Addr().String()
	cfg.DataDir = t.TempDir()
	cfg.Database.Default = newDSN(t)
	cfg.Federation.InsecureSkipVerify = true
	cfg.Federation.TrustedKeyServers = nil
	cfg.Federation.AllowedPrivateNetworks = []string{"127.0.0.0/8"} // test servers federate over loopback
	var err error
	if cfg.SigningKey, cfg.KeyID, err = config.ParseSigningKey(config.NewSigningKey()); err != nil {
		t.Fatal(err)
	}
	bus, err := stream.Connect(ctx, stream.Config{StoreDir: t.TempDir(), Prefix: fmt.Sprintf("fedtest%d", natsPrefix.Add(1)), InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := &setup.Base{Cfg: cfg, Bus: bus, Federation: httputil.NewRouter(nil), Log: log}
	rooms := &fakeRooms{versions: map[string]string{}}
	api, err := New(ctx, base, rooms, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	handler.Store(http.Handler(base.Federation))
	t.Cleanup(func() {
		api.Close()
		bus.Close()
		base.CloseDatabases()
	})
	return &testServer{name: cfg.ServerName, api: api, rooms: rooms, base: base, url: srv.URL}
}

func buildEvent(t *testing.T, id *keys.Identity, roomID, sender, evType string, stateKey *string, content any) gomatrixserverlib.PDU {
	t.Helper()
	v := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV10)
	b := v.NewEventBuilderFromProtoEvent(&gomatrixserverlib.ProtoEvent{
		SenderID: sender, RoomID: roomID, Type: evType, StateKey: stateKey,
		PrevEvents: []string{}, AuthEvents: []string{}, Depth: 1,
	})
	if err := b.SetContent(content); err != nil {
		t.Fatal(err)
	}
	pdu, err := b.Build(time.Now(), id.ServerName, id.KeyID, id.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pdu
}

func publish(t *testing.T, s *testServer, ev rsapi.OutputNewRoomEvent) {
	t.Helper()
	st, err := s.base.Stream(context.Background(), stream.RoomEvents)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rsapi.OutputEvent{Type: rsapi.OutputTypeNewRoomEvent, NewRoomEvent: &ev})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Publish(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 15*time.Second, what, cond)
}

func insecureHTTP() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test
}

func TestFederationOverTLS(t *testing.T) {
	for _, backend := range storagetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			a, b := startServer(t, backend.NewDSN), startServer(t, backend.NewDSN)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			t.Run("server keys", func(t *testing.T) {
				k, err := b.api.Client.GetServerKeys(ctx, spec.ServerName(a.name))
				if err != nil {
					t.Fatal(err)
				}
				if checks, _ := gomatrixserverlib.CheckKeys(spec.ServerName(a.name), time.Now(), k); !checks.AllChecksOK {
					t.Fatalf("a's keys fail checks: %+v", checks)
				}
				if _, ok := k.VerifyKeys[a.api.id.KeyID]; !ok {
					t.Fatalf("key %s not published", a.api.id.KeyID)
				}
			})
			t.Run("version", func(t *testing.T) {
				var v fclient.Version
				req, err := http.NewRequest("GET", "matrix://"+a.name+"/_matrix/federation/v1/version", nil)
				if err != nil {
					t.Fatal(err)
				}
				err = b.api.Client.DoRequestAndParseResponse(ctx, req, &v)
				if err != nil || v.Server.Name != "Axon" {
					t.Fatalf("%+v %v", v, err)
				}
			})
			t.Run("notary", func(t *testing.T) {
				res, err := b.api.Client.LookupServerKeys(ctx, spec.ServerName(a.name), map[gomatrixserverlib.PublicKeyLookupRequest]spec.Timestamp{
					{ServerName: spec.ServerName(b.name), KeyID: ""}: spec.AsTimestamp(time.Now()),
				})
				if err != nil || len(res) != 1 || res[0].ServerName != spec.ServerName(b.name) {
					t.Fatalf("%+v %v", res, err)
				}
				if err := gomatrixserverlib.VerifyJSON(a.name, a.api.id.KeyID, a.api.id.PublicKey(), res[0].Raw); err != nil {
					t.Fatalf("not countersigned by the notary: %v", err)
				}
			})
			t.Run("signed transaction accepted", func(t *testing.T) {
				_, err := b.api.Client.SendTransaction(ctx, gomatrixserverlib.Transaction{
					TransactionID: "t1", Origin: spec.ServerName(b.name), Destination: spec.ServerName(a.name), PDUs: []json.RawMessage{},
				})
				if err != nil {
					t.Fatal(err)
				}
			})
			t.Run("bad auth rejected", func(t *testing.T) {
				path := "/_matrix/federation/v1/send/t2"
				body := []byte(`{"origin":"` + b.name + `","origin_server_ts":1,"pdus":[]}`)
				signedHeader := func(dest, signedBody string, key ed25519.PrivateKey) string {
					r := fclient.NewFederationRequest("PUT", spec.ServerName(b.name), spec.ServerName(dest), path)
					if err := r.SetContent(json.RawMessage(signedBody)); err != nil {
						t.Fatal(err)
					}
					if err := r.Sign(spec.ServerName(b.name), b.api.id.KeyID, key); err != nil {
						t.Fatal(err)
					}
					hr, err := r.HTTPRequest()
					if err != nil {
						t.Fatal(err)
					}
					return hr.Header.Get("Authorization")
				}
				_, otherKey, _ := ed25519.GenerateKey(nil)
				cases := map[string]string{
					"missing":           "",
					"garbage":           "X-Matrix nonsense",
					"wrong key":         signedHeader(a.name, string(body), otherKey),
					"wrong body":        signedHeader(a.name, `{"pdus":[]}`, b.api.id.PrivateKey),
					"wrong destination": signedHeader("elsewhere.org", string(body), b.api.id.PrivateKey),
				}
				for name, auth := range cases {
					req, err := http.NewRequest("PUT", a.url+path, bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/json")
					if auth != "" {
						req.Header.Set("Authorization", auth)
					}
					resp, err := insecureHTTP().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					var e struct{ ErrCode string }
					decErr := json.NewDecoder(resp.Body).Decode(&e)
					resp.Body.Close()
					if decErr != nil {
						t.Errorf("%s: error body: %v", name, decErr)
					}
					if resp.StatusCode != 401 || e.ErrCode != "M_UNAUTHORIZED" {
						t.Errorf("%s: got %d %s, want 401 M_UNAUTHORIZED", name, resp.StatusCode, e.ErrCode)
					}
				}
				// The correctly signed request passes the same checks.
				req, err := http.NewRequest("PUT", a.url+path, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", signedHeader(a.name, string(body), b.api.id.PrivateKey))
				resp, err := insecureHTTP().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("valid request got %d", resp.StatusCode)
				}
			})
			t.Run("events flow and forgeries are rejected", func(t *testing.T) {
				roomID := "!room:" + b.name
				a.rooms.mu.Lock()
				a.rooms.versions[roomID] = "10"
				a.rooms.mu.Unlock()
				aliceID := "@alice:" + a.name
				aliceJoin := buildEvent(t, a.api.id, roomID, aliceID, "m.room.member", &aliceID, map[string]string{"membership": "join"})
				// b learns alice (on a) joined: a is now a destination.
				publish(t, b, rsapi.OutputNewRoomEvent{RoomID: roomID, RoomVersion: "10", EventID: aliceJoin.EventID(),
					Event: aliceJoin.JSON(), AddsStateEventIDs: []string{aliceJoin.EventID()}})
				msg := buildEvent(t, b.api.id, roomID, "@bob:"+b.name, "m.room.message", nil, map[string]string{"body": "hi"})
				publish(t, b, rsapi.OutputNewRoomEvent{RoomID: roomID, RoomVersion: "10", EventID: msg.EventID(), Event: msg.JSON()})
				eventually(t, "a to receive bob's message", func() bool {
					for _, id := range a.rooms.received() {
						if id == msg.EventID() {
							return true
						}
					}
					return false
				})
				for _, id := range a.rooms.received() {
					if id == aliceJoin.EventID() {
						t.Fatal("a remote event was federated by b")
					}
				}

				// An event claiming to be from bob@b but signed by another key.
				forger := &keys.Identity{ServerName: spec.ServerName(b.name), KeyID: b.api.id.KeyID}
				_, forger.PrivateKey, _ = ed25519.GenerateKey(nil)
				forged := buildEvent(t, forger, roomID, "@bob:"+b.name, "m.room.message", nil, map[string]string{"body": "forged"})
				resp, err := b.api.Client.SendTransaction(ctx, gomatrixserverlib.Transaction{
					TransactionID: "forged", Origin: spec.ServerName(b.name), Destination: spec.ServerName(a.name),
					PDUs: []json.RawMessage{forged.JSON()},
				})
				if err != nil {
					t.Fatal(err)
				}
				if r, ok := resp.PDUs[forged.EventID()]; !ok || r.Error == "" {
					t.Fatalf("forged event not reported as rejected: %+v", resp.PDUs)
				}
				for _, id := range a.rooms.received() {
					if id == forged.EventID() {
						t.Fatal("forged event reached the roomserver")
					}
				}
			})
		})
	}
}
