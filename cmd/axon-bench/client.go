package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

const (
	// maxRetries bounds how often one request is retried after 429s.
	maxRetries = 50
	// defaultRetryAfter is used when a 429 carries neither retry_after_ms nor
	// a Retry-After header.
	defaultRetryAfter = time.Second
	// maxRetryAfter caps a single back-off so a misconfigured server can't
	// stall a run for minutes.
	maxRetryAfter = 30 * time.Second
)

// client is a minimal Matrix HTTP client built for load generation: one
// shared keep-alive transport so connection setup doesn't pollute latencies,
// and no response decoding unless the caller asks for it.
type client struct {
	base    string // homeserver URL without trailing slash
	hc      *http.Client
	timeout time.Duration // per-request timeout unless a request sets its own

	rateLimited atomic.Int64 // 429 responses seen over the whole run
}

func newClient(base string, timeout time.Duration) *client {
	tr := &http.Transport{
		Proxy: nil, // talk to --hs directly, never through an environment proxy
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        0, // no global cap; the per-host cap below matters
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		// gzip would add client CPU to every measurement; servers rarely
		// compress API responses by default anyway.
		DisableCompression: true,
	}
	// Deliberately no http.Client.Timeout: each request gets its own context
	// deadline because long-poll syncs legitimately take longer than others.
	return &client{base: base, hc: &http.Client{Transport: tr}, timeout: timeout}
}

// request describes one API call.
type request struct {
	method  string
	path    string // already escaped
	query   url.Values
	token   string
	body    any           // JSON-encoded when non-nil
	out     any           // decoded from a 2xx response when non-nil
	timeout time.Duration // overrides client.timeout when > 0
}

// response describes the attempt that produced the final answer.
type response struct {
	status  int
	bytes   int
	latency time.Duration // of the final attempt only: 429 back-off excluded
}

// apiError is a non-2xx answer from the server.
type apiError struct {
	Status       int    `json:"-"`
	ErrCode      string `json:"errcode"`
	Message      string `json:"error"`
	RetryAfterMs int64  `json:"retry_after_ms"`

	retryAfterHeader time.Duration // valid when hasRetryAfter
	hasRetryAfter    bool
	body             []byte // raw body, e.g. for UIA flows in a 401
}

func (e *apiError) Error() string {
	if e.ErrCode == "" && e.Message == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.ErrCode, e.Message)
}

// retryAfter prefers the JSON field, then the Retry-After header.
func (e *apiError) retryAfter() time.Duration {
	d := defaultRetryAfter
	switch {
	case e.RetryAfterMs > 0:
		d = time.Duration(e.RetryAfterMs) * time.Millisecond
	case e.hasRetryAfter:
		d = e.retryAfterHeader
	}
	return min(d, maxRetryAfter)
}

// asAPIError returns the server error inside err, or nil for transport errors.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// do performs r, retrying on 429 M_LIMIT_EXCEEDED as the server asks.
func (c *client) do(ctx context.Context, r request) (response, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return response{}, fmt.Errorf("encoding %s %s: %w", r.method, r.path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		res, err := c.once(ctx, r, payload)
		ae := asAPIError(err)
		if ae == nil || ae.Status != http.StatusTooManyRequests {
			return res, err
		}
		c.rateLimited.Add(1)
		if attempt >= maxRetries {
			return res, fmt.Errorf("still rate limited after %d retries: %w", maxRetries, err)
		}
		if err := sleep(ctx, ae.retryAfter()); err != nil {
			return res, err
		}
	}
}

func (c *client) once(ctx context.Context, r request, payload []byte) (response, error) {
	timeout := c.timeout
	if r.timeout > 0 {
		timeout = r.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return response{}, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	res := response{status: resp.StatusCode, bytes: len(data), latency: time.Since(start)}
	if err != nil {
		return res, fmt.Errorf("reading response of %s %s: %w", r.method, r.path, err)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &apiError{Status: resp.StatusCode, body: data}
		_ = json.Unmarshal(data, ae) // non-JSON error bodies keep just the status
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			ae.retryAfterHeader, ae.hasRetryAfter = time.Duration(secs)*time.Second, true
		}
		return res, ae
	}
	if r.out != nil {
		if err := json.Unmarshal(data, r.out); err != nil {
			return res, fmt.Errorf("decoding response of %s %s: %w", r.method, r.path, err)
		}
	}
	return res, nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
