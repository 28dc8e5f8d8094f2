package appservice

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/axon-hs/axon/appservice/api"
)

// Ping implements api.AppserviceAPI. A successful ping also retries the
// appservice's pending transaction at once: bridges ping when they
// start, so delivery resumes without waiting out the backoff.
func (c *Component) Ping(ctx context.Context, appserviceID, txnID string) (int64, error) {
	reg := c.cfg.AppServiceByID(appserviceID)
	if reg == nil {
		return 0, api.ErrUnknownAppservice
	}
	if !reg.HasURL() {
		return 0, api.ErrNoURL
	}
	body := map[string]string{}
	if txnID != "" {
		body["transaction_id"] = txnID
	}
	start := time.Now()
	res, err := c.clients[reg.ID].do(ctx, pingTimeout, "POST", "/_matrix/app/v1/ping", nil, body)
	elapsed := time.Since(start)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return 0, &api.PingError{Kind: "timeout", Detail: err.Error()}
		}
		return 0, &api.PingError{Kind: "connection", Detail: err.Error()}
	}
	if !res.ok() {
		return 0, &api.PingError{Kind: "status", Status: res.Status, Body: string(res.Body)}
	}
	if s := c.senders[reg.ID]; s != nil {
		signal(s.retry)
	}
	return elapsed.Milliseconds(), nil
}
