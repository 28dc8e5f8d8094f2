package pushserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/axon-hs/axon/internal/netguard"
)

// gatewayTimeout bounds one notify request, connection included.
const gatewayTimeout = 10 * time.Second

// maxGatewayResponse bounds what is read of a gateway's answer.
const maxGatewayResponse = 64 << 10

// gatewayClient POSTs to push gateways.
type gatewayClient struct {
	http httpClient
}

// newGatewayClient builds the client; non-public addresses are refused
// (internal/netguard, checked on the address dialled) unless allowed.
func newGatewayClient(allowedPrivate []string) *gatewayClient {
	guard, err := netguard.New(netguard.NonPublic, allowedPrivate)
	if err != nil { // the config validated the list; refuse all private addresses if not
		guard, _ = netguard.New(netguard.NonPublic, nil)
	}
	dialer := &net.Dialer{Timeout: gatewayTimeout, Control: guard.Control}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   gatewayTimeout,
		ResponseHeaderTimeout: gatewayTimeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &gatewayClient{http: &http.Client{
		Transport: transport,
		Timeout:   gatewayTimeout,
		// A gateway answers; it does not send us elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// notify POSTs body to url and returns the pushkeys the gateway rejected.
func (g *gatewayClient) notify(ctx context.Context, url string, body []byte) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxGatewayResponse))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("push gateway answered %d", resp.StatusCode)
	}
	var out struct {
		Rejected []string `json:"rejected"`
	}
	_ = json.Unmarshal(data, &out) // a 200 without a body rejected nothing
	return out.Rejected, nil
}
