package appservice

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/axon-hs/axon/internal/config"
)

// Timeouts of calls to an appservice. Each call has its own, so a bridge
// that hangs holds up nothing but its own queue.
const (
	transactionTimeout = 30 * time.Second
	queryTimeout       = 10 * time.Second
	pingTimeout        = 10 * time.Second
	// maxResponseBytes bounds what is read of an appservice's answer.
	maxResponseBytes = 1 << 20
)

// asClient calls one appservice's Application Service API.
type asClient struct {
	reg  *config.AppService
	http *http.Client
}

// asResponse is an appservice's answer.
type asResponse struct {
	Status int
	Body   []byte
}

// do sends a request to path (below the registration's url) with the
// hs_token, bounded by timeout.
func (c *asClient) do(ctx context.Context, timeout time.Duration, method, path string, query url.Values, body any) (*asResponse, error) {
	if !c.reg.HasURL() {
		return nil, errors.New("appservice has no url")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	u := strings.TrimRight(*c.reg.URL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.reg.HSToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading answer: %w", err)
	}
	return &asResponse{Status: res.StatusCode, Body: data}, nil
}

// ok reports a 2xx answer.
func (r *asResponse) ok() bool { return r.Status >= 200 && r.Status < 300 }

// pathEscape escapes one path segment (user IDs and aliases contain ':'
// and '#').
func pathEscape(s string) string { return url.PathEscape(s) }
