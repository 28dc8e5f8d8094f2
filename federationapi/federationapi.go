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

	cancel context.CancelFunc
	// consumers are the room events and outbound EDU consumers (see
	// edu_out.go) when not partitioned; else partition 0's holder runs them.
	consumers []<-chan struct{}
	// roomEvents is the room events stream; streams are the ephemeral
	// ones (inbound EDUs are published on them, local ones read from them).
	roomEvents *stream.Stream
	streams    map[string]*stream.Stream
	// parts shares the destinations among several federationapi
	// processes (partition.go; nil: one process sends to all).
	parts *partitions

	joinLocks roomLocks
	acls      aclCache
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

	scfg := sender.Config{Origin: f.id.ServerName, Log: base.Log.With("component", "federation-sender")}
	if cfg.Partitioning.Instance != "" {
		f.parts = f.newPartitions()
		scfg.Partitions, scfg.Instance = f.parts, cfg.Partitioning.Instance
	}
	f.sender = sender.New(f.store, f.Client, scfg)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f.cancel = cancel
	if err := f.sender.Start(runCtx); err != nil {
		cancel()
		return nil, err
	}
	if f.roomEvents, err = base.Stream(ctx, stream.RoomEvents); err != nil {
		f.Close()
		return nil, err
	}
	f.streams = map[string]*stream.Stream{}
	for _, name := range []string{stream.Typing, stream.Receipts, stream.Presence, stream.SendToDevice, stream.DeviceListUpdates} {
		if f.streams[name], err = base.Stream(ctx, name); err != nil {
			f.Close()
			return nil, fmt.Errorf("federationapi: %w", err)
		}
	}
	if f.parts != nil {
		err = f.parts.start(ctx)
	} else {
		f.consumers, err = f.startConsumers(ctx, runCtx)
	}
	if err != nil {
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
	f.parts.close()
	if f.cancel != nil {
		f.cancel()
	}
	for _, done := range f.consumers {
		<-done
	}
	if f.sender != nil {
		f.sender.Stop()
	}
	if f.rt != nil {
		f.rt.CloseIdleConnections()
	}
}

// startConsumers starts the room events and outbound EDU consumers from
// their stored positions, until runCtx ends; their done channels are
// returned even on error (those started).
func (f *FederationAPI) startConsumers(ctx, runCtx context.Context) ([]<-chan struct{}, error) {
	consumer := &sender.RoomEvents{Store: f.store, Rooms: f.rooms, Sender: f.sender, DeadLetter: f.deadLetterer(sender.ConsumerName)}
	done, err := consumer.Start(runCtx, f.roomEvents)
	if err != nil {
		return nil, err
	}
	return f.startEDUConsumers(ctx, runCtx, []<-chan struct{}{done})
}

// KeyRing verifies signatures of other servers (events, requests).
func (f *FederationAPI) KeyRing() gomatrixserverlib.JSONVerifier { return f.ring }
