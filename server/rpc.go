package server

import (
	"context"
	"fmt"
	"reflect"

	"github.com/axon-hs/axon/internal/rpc"
)

// serveRPC makes a local component callable by other processes of a
// polylith. A monolith (no "components" in the config) skips it.
func (s *Server) serveRPC(ctx context.Context, component string, ifacePtr any, impl any) error {
	if len(s.Base.Cfg.Components) == 0 {
		return nil
	}
	iface := reflect.TypeOf(ifacePtr).Elem()
	if err := rpc.Serve(ctx, s.Base.Bus.Conn(), s.Base.Cfg.NATS.Prefix, component, iface, impl); err != nil {
		return fmt.Errorf("serve %s over NATS: %w", component, err)
	}
	return nil
}

// rpcClient reaches a component running in another process.
func (s *Server) rpcClient(component string) *rpc.Client {
	return rpc.NewClient(s.Base.Bus.Conn(), s.Base.Cfg.NATS.Prefix, component)
}
