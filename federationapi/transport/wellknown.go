package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/matrix-org/gomatrixserverlib/spec"
)

// maxWellKnownBytes bounds what a remote well-known file may make us read.
const maxWellKnownBytes = 50 << 10

// WellKnownFetcher reads https://<hostname>/.well-known/matrix/server.
type WellKnownFetcher struct {
	Client *http.Client
	// Scheme is "https" except in tests.
	Scheme string
}

// Lookup implements WellKnownLookup.
func (f *WellKnownFetcher) Lookup(ctx context.Context, hostname string) (string, time.Duration, error) {
	scheme := f.Scheme
	if scheme == "" {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+hostname+"/.well-known/matrix/server", nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("well-known: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWellKnownBytes+1))
	if err != nil {
		return "", 0, err
	}
	if len(body) > maxWellKnownBytes {
		return "", 0, errors.New("well-known: response too large")
	}
	var wk struct {
		Server string `json:"m.server"`
	}
	if err := json.Unmarshal(body, &wk); err != nil {
		return "", 0, fmt.Errorf("well-known: %w", err)
	}
	if _, _, ok := spec.ParseAndValidateServerName(spec.ServerName(wk.Server)); !ok {
		return "", 0, fmt.Errorf("well-known: invalid m.server %q", wk.Server)
	}
	return wk.Server, cacheTTL(resp.Header, time.Now()), nil
}

// cacheTTL reads Cache-Control max-age (preferred) or Expires; 0 means
// "use the default".
func cacheTTL(h http.Header, now time.Time) time.Duration {
	for _, part := range strings.Split(h.Get("Cache-Control"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "max-age") {
			if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
				return time.Duration(secs) * time.Second
			}
		}
	}
	if exp := h.Get("Expires"); exp != "" {
		if t, err := http.ParseTime(exp); err == nil && t.After(now) {
			return t.Sub(now)
		}
	}
	return 0
}
