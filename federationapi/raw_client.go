package federationapi

import (
	"context"
	"net/http"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	"github.com/axon-hs/axon/federationapi/keys"
	"github.com/axon-hs/axon/federationapi/transport"
	"github.com/axon-hs/axon/internal/config"
	"github.com/axon-hs/axon/internal/netguard"
)

// newRoundTripper is the federation transport: server discovery
// (well-known, SRV) and TLS towards other servers.
func newRoundTripper(cfg *config.Config) *transport.RoundTripper {
	insecure := cfg.Federation.InsecureSkipVerify
	guard, err := netguard.New(netguard.NonPublic, cfg.Federation.AllowedPrivateNetworks)
	if err != nil { // the config validated the list; refuse all private addresses if not
		guard, _ = netguard.New(netguard.NonPublic, nil)
	}
	wk := &transport.WellKnownFetcher{Client: &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: transport.TLSConfig("", insecure), TLSHandshakeTimeout: 10 * time.Second,
			DialContext: transport.Dialer(guard).DialContext},
	}}
	rt := transport.NewRoundTripper(transport.NewResolver(wk.Lookup), insecure)
	rt.Guard = guard
	return rt
}

// RawClient sends GET requests to other servers over the federation
// transport and hands back the unread response: for bodies too large for
// the RPC interface (media). The caller bounds each call with its context.
type RawClient struct {
	id     *keys.Identity
	client *fclient.Client
}

// NewRawClient builds a RawClient with a transport of its own (a process
// running mediaapi without federationapi).
func NewRawClient(cfg *config.Config) *RawClient {
	id := &keys.Identity{ServerName: spec.ServerName(cfg.ServerName), KeyID: gomatrixserverlib.KeyID(cfg.KeyID), PrivateKey: cfg.SigningKey}
	return newRawClient(id, newRoundTripper(cfg))
}

// RawClient shares this component's transport and identity.
func (f *FederationAPI) RawClient() *RawClient { return newRawClient(f.id, f.rt) }

func newRawClient(id *keys.Identity, rt http.RoundTripper) *RawClient {
	// No client-wide timeout: a large file may take long; the caller's
	// context bounds it, and the transport bounds dialling and headers.
	return &RawClient{id: id, client: fclient.NewClient(fclient.WithTransport(rt), fclient.WithUserAgent("Axon"))}
}

// Get requests requestURI (path and query) from server, X-Matrix signed
// when signed is set.
func (c *RawClient) Get(ctx context.Context, server, requestURI string, signed bool) (*http.Response, error) {
	var req *http.Request
	if signed {
		fr := fclient.NewFederationRequest(http.MethodGet, c.id.ServerName, spec.ServerName(server), requestURI)
		if err := fr.Sign(c.id.ServerName, c.id.KeyID, c.id.PrivateKey); err != nil {
			return nil, err
		}
		var err error
		if req, err = fr.HTTPRequest(); err != nil {
			return nil, err
		}
	} else {
		var err error
		if req, err = http.NewRequest(http.MethodGet, "matrix://"+server+requestURI, nil); err != nil {
			return nil, err
		}
	}
	return c.client.DoHTTPRequest(ctx, req)
}
