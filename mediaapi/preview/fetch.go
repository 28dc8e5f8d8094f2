package preview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Fetcher gets pages and images for previews through the safe client.
type Fetcher struct {
	client   *http.Client
	maxBytes int64
}

// NewFetcher builds a Fetcher from cfg.
func NewFetcher(cfg Config) (*Fetcher, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Fetcher{client: c, maxBytes: cfg.MaxBytes}, nil
}

// ErrTooLarge: the response is over the size limit.
var ErrTooLarge = errors.New("preview: response too large")

// Response is a fetched resource: its final URL (after redirects), its
// declared type and a body of at most the size limit, still to be read.
type Response struct {
	URL         *url.URL
	ContentType string
	Body        io.Reader
	close       func() error
}

// Close releases the connection.
func (r *Response) Close() error { return r.close() }

// Get fetches rawURL (http or https only). Reading more than the size
// limit from Body fails with ErrTooLarge.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("preview: %q is not an http(s) URL", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "Axon URL preview (Matrix homeserver)")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,image/*;q=0.9,*/*;q=0.5")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("preview: %s answered HTTP %d", u.Host, resp.StatusCode)
	}
	if resp.ContentLength > f.maxBytes {
		resp.Body.Close()
		return nil, ErrTooLarge
	}
	return &Response{URL: resp.Request.URL, ContentType: resp.Header.Get("Content-Type"),
		Body: &limitedReader{r: resp.Body, left: f.maxBytes}, close: resp.Body.Close}, nil
}

// limitedReader fails (rather than stopping quietly) past its limit, so a
// truncated body is never taken for a whole one.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, ErrTooLarge
	}
	return n, err
}
