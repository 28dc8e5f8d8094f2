package federationapi

import (
	"context"
	"fmt"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/fclient"
	"github.com/matrix-org/gomatrixserverlib/spec"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/federationapi/keys"
	"github.com/axon-hs/axon/federationapi/sender"
	"github.com/axon-hs/axon/federationapi/storage"
	"github.com/axon-hs/axon/federationapi/transport"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// requestTimeout bounds every outbound federation request.
const requestTimeout = 60 * time.Second

// FederationAPI is the federation component.
type FederationAPI struct {
	base  *setup.Base
	rooms rsapi.RoomserverAPI
	users Users
	// keyAPI serves our users' device lists and keys to other servers (nil:
	// none are served).
	keyAPI Keys
	// appservices are asked about unknown users and aliases in their
	// namespaces (nil: none).
	appservices AppserviceQuerier
	store       *storage.DB
	id          *keys.Identity
	ring        *keys.Ring
	// Client makes signed requests to other servers.
	Client fclient.FederationClient
	sender *sender.Sender
	rt     *transport.RoundTripper

	cancel   context.CancelFunc
	consumer <-chan struct{}
	// edus are the outbound ephemeral consumers (see edu_out.go).
	edus []<-chan struct{}
	// streams are the ephemeral streams (inbound EDUs are published on
	// them, local ones read from them).
	streams map[string]*stream.Stream

	joinLocks roomLocks
	acls      aclCache
	openID    openIDTokens
}

// New opens the federation database, builds the client, key ring and
// sender, starts consuming room events and registers the federation and
// key routes on base.Federation. keyAPI may be nil (no E2EE key routes
// content, no device list EDUs).
func New(ctx context.Context, base *setup.Base, rooms rsapi.RoomserverAPI, users Users, keyAPI Keys, appservices AppserviceQuerier) (*FederationAPI, error) {
	cfg := base.Cfg
	db, err := base.OpenDB(ctx, storage.Component, storage.Migrations)
	if err != nil {
		return nil, err
	}
	f := &FederationAPI{base: base, rooms: rooms, users: users, keyAPI: keyAPI, appservices: appservices, store: storage.New(db)}
	f.id = &keys.Identity{ServerName: spec.ServerName(cfg.ServerName), KeyID: gomatrixserverlib.KeyID(cfg.KeyID), PrivateKey: cfg.SigningKey}

	f.rt = newRoundTripper(cfg)
	f.Client = fclient.NewFederationClient(
		[]*fclient.SigningIdentity{{ServerName: f.id.ServerName, KeyID: f.id.KeyID, PrivateKey: f.id.PrivateKey}},
		fclient.WithTransport(f.rt), fclient.WithTimeout(requestTimeout), fclient.WithUserAgent("Axon"),
	)
	keyClient := fclient.NewClient(fclient.WithTransport(f.rt), fclient.WithTimeout(requestTimeout), fclient.WithUserAgent("Axon"))
	f.ring = keys.NewRing(f.id, f.store, keyClient, cfg.Federation.TrustedKeyServers)

	f.sender = sender.New(f.store, f.Client, sender.Config{Origin: f.id.ServerName, Log: base.Log.With("component", "federation-sender")})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel = cancel
	if err := f.sender.Start(runCtx); err != nil {
		cancel()
		return nil, err
	}
	s, err := base.Stream(ctx, stream.RoomEvents)
	if err != nil {
		f.Close()
		return nil, err
	}
	consumer := &sender.RoomEvents{Store: f.store, Rooms: rooms, Sender: f.sender, LocalJoined: f.announceDevicesOnJoin}
	if f.consumer, err = consumer.Start(runCtx, s); err != nil {
		f.Close()
		return nil, fmt.Errorf("federationapi: %w", err)
	}
	f.streams = map[string]*stream.Stream{}
	for _, name := range []string{stream.Typing, stream.Receipts, stream.Presence, stream.SendToDevice, stream.DeviceListUpdates} {
		if f.streams[name], err = base.Stream(ctx, name); err != nil {
			f.Close()
			return nil, fmt.Errorf("federationapi: %w", err)
		}
	}
	if err := f.startEDUConsumers(ctx, runCtx); err != nil {
		f.Close()
		return nil, fmt.Errorf("federationapi: %w", err)
	}
	f.registerRoutes()
	return f, nil
}

var _ fedapi.FederationAPI = (*FederationAPI)(nil)

// Close stops the consumer and the destination queues (queued items stay
// stored for the next start).
func (f *FederationAPI) Close() {
	if f.cancel != nil {
		f.cancel()
	}
	if f.consumer != nil {
		<-f.consumer
	}
	for _, done := range f.edus {
		<-done
	}
	if f.sender != nil {
		f.sender.Stop()
	}
	if f.rt != nil {
		f.rt.CloseIdleConnections()
	}
}

// KeyRing verifies signatures of other servers (events, requests).
func (f *FederationAPI) KeyRing() gomatrixserverlib.JSONVerifier { return f.ring }
