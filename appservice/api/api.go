// Package api is the appservice component's public surface: what other
// components ask of the application services registered with this
// server (queries for users and aliases that do not exist yet, pings,
// third-party lookups). Every call reaches an appservice over HTTP with
// a timeout; the interface is served over NATS in a polylith.
package api

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface AppserviceAPI

import (
	"context"
	"encoding/json"
)

// AppserviceAPI is what other components may ask of the appservice component.
type AppserviceAPI interface {
	// QueryUserID asks the appservices whose user namespace holds userID
	// (a local user that does not exist) whether it exists: true when one
	// answered 200, having created it.
	QueryUserID(ctx context.Context, userID string) (bool, error)
	// QueryRoomAlias asks the appservices whose alias namespace holds
	// alias (not known here): true when one answered 200, having created
	// the room and alias.
	QueryRoomAlias(ctx context.Context, alias string) (bool, error)
	// Ping calls appserviceID's /_matrix/app/v1/ping with txnID and
	// returns the round trip in milliseconds. ErrUnknownAppservice,
	// ErrNoURL, or a *PingError.
	Ping(ctx context.Context, appserviceID, txnID string) (durationMS int64, err error)

	// ThirdPartyProtocols merges the protocol metadata of every appservice
	// declaring each protocol (instances carry their appservice's
	// instance_id).
	ThirdPartyProtocols(ctx context.Context) (map[string]json.RawMessage, error)
	// ThirdPartyProtocol is one protocol's metadata; ErrUnknownProtocol.
	ThirdPartyProtocol(ctx context.Context, protocol string) (json.RawMessage, error)
	// ThirdPartyLookup proxies a lookup (kind "location" or "user") to the
	// appservices of protocol (every appservice when protocol is "",
	// then fields hold "alias" or "userid") and concatenates the results.
	ThirdPartyLookup(ctx context.Context, kind, protocol string, fields map[string][]string) ([]json.RawMessage, error)
}
