package pushserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// gatewayTimeout bounds one notify request, connection included.
const gatewayTimeout = 10 * time.Second

// maxGatewayResponse bounds what is read of a gateway's answer.
const maxGatewayResponse = 64 << 10

// gatewayClient POSTs to push gateways.
type gatewayClient struct {
	http httpClient
}

var errPrivateAddress = errors.New("push gateway address is not public (push.allow_private_gateways is off)")

func newGatewayClient(allowPrivate bool) *gatewayClient {
	dialer := &net.Dialer{Timeout: gatewayTimeout}
	if !allowPrivate {
		// Checked on the address actually dialled, so DNS answers
		// cannot point a pusher at an internal service.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !isPublic(ap.Addr()) {
				return errPrivateAddress
			}
			return nil
		}
	}
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

func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(a)
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
