package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/testutil"
	"github.com/axon-hs/axon/server/testserver"
)

var asCtx = context.Background()

// asTxn is one transaction as the bridge received it.
type asTxn struct {
	ID        string
	Received  time.Time
	Events    []json.RawMessage `json:"events"`
	Ephemeral []json.RawMessage `json:"ephemeral"`
	ToDevice  []json.RawMessage `json:"to_device"`
	// Unstable names, which must carry the same.
	MSC2409Ephemeral []json.RawMessage `json:"de.sorunome.msc2409.ephemeral"`
	MSC2409ToDevice  []json.RawMessage `json:"de.sorunome.msc2409.to_device"`
	// MSC3202.
	DeviceLists *struct {
		Changed []string `json:"changed"`
		Left    []string `json:"left"`
	} `json:"org.matrix.msc3202.device_lists"`
	OTKCounts map[string]map[string]map[string]int `json:"org.matrix.msc3202.device_one_time_keys_count"`
}

// asEvent is the part of a pushed event the tests look at.
type asEvent struct {
	Type     string         `json:"type"`
	EventID  string         `json:"event_id"`
	RoomID   string         `json:"room_id"`
	Sender   string         `json:"sender"`
	StateKey *string        `json:"state_key"`
	TS       int64          `json:"origin_server_ts"`
	ToUserID string         `json:"to_user_id"`
	ToDevice string         `json:"to_device_id"`
	Content  map[string]any `json:"content"`
}

// testBridge is a real bridge built on mautrix's appservice package,
// serving its transaction, query and ping handlers on a loopback port
// that the test can stop and start again (a bridge going down).
type testBridge struct {
	t    testing.TB
	AS   *appservice.AppService
	Reg  *appservice.Registration
	addr string
	// Block makes every transaction hang until the test ends (a stuck bridge).
	Block chan struct{}
	// FailFirst transactions are answered 500 (recorded in attempts).
	FailFirst int

	mu       sync.Mutex
	srv      *http.Server
	txns     []asTxn        // raw, including retries
	attempts []asTxn        // failed ones
	handled  []*event.Event // what mautrix handed the bridge (retries removed)
	queries  []url.Values   // third-party location lookups' parameters
}

// newTestBridge generates a registration (users and aliases "_<name>_*",
// exclusive) and listens on a free port.
func newTestBridge(t testing.TB, name string, edit func(reg *appservice.Registration)) *testBridge {
	t.Helper()
	b := &testBridge{t: t, addr: testserver.FreeLoopbackAddr(t)}
	reg := appservice.CreateRegistration()
	reg.ID = name
	reg.URL = "http://" + b.addr
	reg.SenderLocalpart = "_" + name + "_bot"
	f := false
	reg.RateLimited = &f
	reg.EphemeralEvents, reg.SoruEphemeralEvents = true, true
	reg.Namespaces.UserIDs = appservice.NamespaceList{{Regex: "@_" + name + "_.*", Exclusive: true}}
	reg.Namespaces.RoomAliases = appservice.NamespaceList{{Regex: "#_" + name + "_.*", Exclusive: true}}
	if edit != nil {
		edit(reg)
	}
	b.Reg = reg
	return b
}

// file writes the registration, plus extra YAML keys, for app_services.
func (b *testBridge) file(extra string) string {
	b.t.Helper()
	data, err := b.Reg.YAML()
	if err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(b.t.TempDir(), b.Reg.ID+"-registration.yaml")
	if err := os.WriteFile(path, []byte(data+extra), 0o600); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// attach connects the bridge to a running Axon and starts serving.
func (b *testBridge) attach(inst *testserver.Instance) {
	b.t.Helper()
	as := appservice.Create()
	// mautrix v0.26's memory store forgets to make its join rules map
	// (a bridge would panic on m.room.join_rules and never acknowledge).
	store := mautrix.NewMemoryStateStore().(*mautrix.MemoryStateStore)
	store.JoinRules = map[id.RoomID]*event.JoinRulesEventContent{}
	as.StateStore = store
	as.HomeserverDomain = inst.Cfg.ServerName
	as.Registration = b.Reg
	if err := as.SetHomeserverURL(inst.URL); err != nil {
		b.t.Fatal(err)
	}
	as.QueryHandler = b
	b.AS = as
	b.serveThirdParty()
	go b.drain()
	b.start()
	b.t.Cleanup(func() {
		b.stop()
		if b.Block != nil {
			close(b.Block)
		}
	})
}

// drain keeps mautrix's channels empty, recording the events.
func (b *testBridge) drain() {
	for {
		select {
		case ev := <-b.AS.Events:
			b.mu.Lock()
			b.handled = append(b.handled, ev)
			b.mu.Unlock()
		case <-b.AS.ToDeviceEvents:
		case <-b.AS.DeviceLists:
		case <-b.AS.OTKCounts:
		}
	}
}

// start serves the bridge (again) on its address.
func (b *testBridge) start() {
	b.t.Helper()
	var ln net.Listener
	var err error
	testutil.Eventually(b.t, 10*time.Second, "bridge port free again", func() bool {
		ln, err = net.Listen("tcp", b.addr)
		return err == nil
	})
	srv := &http.Server{Handler: http.HandlerFunc(b.serve), ReadHeaderTimeout: 10 * time.Second}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// stop takes the bridge down: Axon's calls are refused.
func (b *testBridge) stop() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	}
}

// serve records transactions, then lets mautrix handle the request.
func (b *testBridge) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/_matrix/app/v1/transactions/") {
		if b.Block != nil {
			select {
			case <-b.Block:
			case <-r.Context().Done():
			}
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if r.Header.Get("Authorization") == "Bearer "+b.Reg.ServerToken {
			txn := asTxn{ID: strings.TrimPrefix(r.URL.Path, "/_matrix/app/v1/transactions/"), Received: time.Now()}
			if json.Unmarshal(body, &txn) == nil {
				b.mu.Lock()
				fail := len(b.attempts) < b.FailFirst
				if fail {
					b.attempts = append(b.attempts, txn)
				} else {
					b.txns = append(b.txns, txn)
				}
				b.mu.Unlock()
				if fail {
					http.Error(w, `{"errcode":"M_UNKNOWN","error":"bridge hiccup"}`, http.StatusInternalServerError)
					return
				}
			}
		}
	}
	b.AS.Router.ServeHTTP(w, r)
}

// serveThirdParty answers third-party lookups for the "irc" protocol, as
// an IRC bridge would (mautrix leaves these routes to the bridge).
func (b *testBridge) serveThirdParty() {
	reply := func(w http.ResponseWriter, r *http.Request, body any) {
		if !b.AS.CheckServerToken(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
	b.AS.Router.HandleFunc("GET /_matrix/app/v1/thirdparty/protocol/irc", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, map[string]any{
			"user_fields": []string{"network", "nickname"}, "location_fields": []string{"network", "channel"},
			"icon": "mxc://example.org/irc", "field_types": map[string]any{},
			"instances": []any{map[string]any{"network_id": "libera", "desc": "Libera", "fields": map[string]any{}}},
		})
	})
	b.AS.Router.HandleFunc("GET /_matrix/app/v1/thirdparty/location/irc", func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.queries = append(b.queries, r.URL.Query())
		b.mu.Unlock()
		reply(w, r, []any{map[string]any{"alias": "#_" + b.Reg.ID + "_" + r.URL.Query().Get("channel") + ":x", "protocol": "irc", "fields": map[string]any{"channel": r.URL.Query().Get("channel")}}})
	})
	b.AS.Router.HandleFunc("GET /_matrix/app/v1/thirdparty/user", func(w http.ResponseWriter, r *http.Request) {
		reply(w, r, []any{map[string]any{"userid": r.URL.Query().Get("userid"), "protocol": "irc", "fields": map[string]any{"nickname": "n"}}})
	})
}

// QueryAlias implements appservice.QueryHandler: "#_<id>_…" aliases are
// created on demand as a public room owned by the bot.
func (b *testBridge) QueryAlias(alias id.RoomAlias) bool {
	local := strings.TrimPrefix(strings.SplitN(string(alias), ":", 2)[0], "#")
	_, err := b.AS.BotIntent().CreateRoom(asCtx, &mautrix.ReqCreateRoom{RoomAliasName: local, Preset: "public_chat", Name: "Bridged " + local})
	return err == nil
}

// QueryUser implements appservice.QueryHandler: any ghost may exist.
func (b *testBridge) QueryUser(userID id.UserID) bool {
	return b.AS.Intent(userID).EnsureRegistered(asCtx) == nil
}

// deviceListsLeft says whether some transaction listed user as left.
func (b *testBridge) deviceListsLeft(user string) bool {
	for _, txn := range b.txnsCopy() {
		if txn.DeviceLists != nil && slices.Contains(txn.DeviceLists.Left, user) {
			return true
		}
	}
	return false
}

// handledCount counts the messages with body mautrix handed the bridge.
func (b *testBridge) handledCount(body string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, ev := range b.handled {
		if ev.Type == event.EventMessage && ev.Content.Raw["body"] == body {
			n++
		}
	}
	return n
}

// txnsCopy returns the transactions received so far.
func (b *testBridge) txnsCopy() []asTxn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]asTxn(nil), b.txns...)
}

// pushed lists the distinct transactions' items of one section in order
// (a retried txnId counts once, as the spec lets bridges assume).
func (b *testBridge) pushed(section func(asTxn) []json.RawMessage) []asEvent {
	seen := map[string]bool{}
	var out []asEvent
	for _, txn := range b.txnsCopy() {
		if seen[txn.ID] {
			continue
		}
		seen[txn.ID] = true
		for _, raw := range section(txn) {
			var ev asEvent
			if json.Unmarshal(raw, &ev) == nil {
				out = append(out, ev)
			}
		}
	}
	return out
}

func (b *testBridge) events() []asEvent {
	return b.pushed(func(t asTxn) []json.RawMessage { return t.Events })
}
func (b *testBridge) ephemeral() []asEvent {
	return b.pushed(func(t asTxn) []json.RawMessage { return t.Ephemeral })
}
func (b *testBridge) toDevice() []asEvent {
	return b.pushed(func(t asTxn) []json.RawMessage { return t.ToDevice })
}

// bodies are the message bodies pushed to the bridge, in order.
func (b *testBridge) bodies(prefix string) []string {
	var out []string
	for _, ev := range b.events() {
		if body, _ := ev.Content["body"].(string); ev.Type == "m.room.message" && strings.HasPrefix(body, prefix) {
			out = append(out, body)
		}
	}
	return out
}

// waitFor polls what the bridge received until cond holds.
func (b *testBridge) waitFor(what string, cond func() bool) {
	b.t.Helper()
	testutil.Eventually(b.t, 30*time.Second, what, cond)
}

// startWithBridges runs Axon with the bridges' registrations and attaches them.
func startWithBridges(t testing.TB, opts testserver.Options, extra map[string]string, bridges ...*testBridge) *testserver.Instance {
	t.Helper()
	configure := opts.Configure
	opts.Configure = func(cfg *config.Config) {
		for _, b := range bridges {
			cfg.AppServicePaths = append(cfg.AppServicePaths, b.file(extra[b.Reg.ID]))
		}
		if configure != nil {
			configure(cfg)
		}
	}
	inst := testserver.Start(t, opts)
	for _, b := range bridges {
		b.attach(inst)
	}
	return inst
}

// asRaw calls Axon with the as_token, as user (masquerading) when set.
func asRaw(t testing.TB, inst *testserver.Instance, b *testBridge, method, path, user string, body any) acctResp {
	t.Helper()
	u := inst.URL + path
	if user != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "user_id=" + url.QueryEscape(user)
	}
	return acctDo(t, method, u, b.Reg.AppToken, body)
}

// randomHex is a random suffix for names.
func randomHex(t testing.TB) string {
	var buf [6]byte
	if _, err := rand.Read(buf[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(buf[:])
}

// isMatrixErr reports whether err is a Matrix error with errcode.
func isMatrixErr(err error, errcode string) bool {
	var he mautrix.HTTPError
	return errors.As(err, &he) && he.RespError != nil && he.RespError.ErrCode == errcode
}

type (
	jsonRaw                = json.RawMessage
	appserviceRegistration = appservice.Registration
	appserviceNamespace    = appservice.Namespace
)

// sawQuery says whether a lookup passed on parameter key.
func (b *testBridge) sawQuery(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, q := range b.queries {
		if q.Has(key) {
			return true
		}
	}
	return false
}

// acctTryList GETs a JSON array of objects with token.
func acctTryList(u, token string) ([]map[string]any, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := acctHTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("GET %s: %d, not a JSON array: %w", u, res.StatusCode, err)
	}
	return out, nil
}

// acctRawGet is the body of a plain GET (not JSON).
func acctRawGet(t testing.TB, u string) string {
	t.Helper()
	res, err := acctHTTPClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
