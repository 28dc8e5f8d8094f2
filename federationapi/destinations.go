package federationapi

import (
	"context"
	"errors"

	"github.com/axon-hs/axon/federationapi/api"
)

// QueryDestinations implements api.FederationAPI.
func (f *FederationAPI) QueryDestinations(ctx context.Context) ([]api.Destination, error) {
	rows, err := f.store.Destinations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Destination, 0, len(rows))
	for _, d := range rows {
		out = append(out, api.Destination{ServerName: d.ServerName, Failures: d.Failures, FirstFailureTS: d.FirstFailureTS,
			RetryAtTS: d.RetryAtTS, Blacklisted: d.Blacklisted})
	}
	return out, nil
}

// ResetDestination implements api.FederationAPI.
func (f *FederationAPI) ResetDestination(ctx context.Context, serverName string) error {
	if f.sender == nil {
		return errors.New("federation sender is not running")
	}
	return f.sender.Reset(ctx, serverName)
}
