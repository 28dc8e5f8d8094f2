package server

import (
	"context"
	"fmt"
	"reflect"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/rpc"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// The errors callers tell apart must keep their identity across RPC.
func init() {
	for name, err := range map[string]error{
		"userapi.not_found": uapi.ErrNotFound, "userapi.user_in_use": uapi.ErrUserInUse,
		"userapi.invalid_username": uapi.ErrInvalidUsername, "userapi.invalid_password": uapi.ErrInvalidPassword,
		"userapi.deactivated": uapi.ErrUserDeactivated, "userapi.unknown_token": uapi.ErrUnknownToken,
		"userapi.token_expired": uapi.ErrTokenExpired, "userapi.profile_too_large": uapi.ErrProfileTooLarge,
		"roomserver.room_not_found": rsapi.ErrRoomNotFound,
	} {
		rpc.RegisterSentinel(name, err)
	}
	rpc.RegisterErrorType("roomserver.error", &rsapi.Error{})
	rpc.RegisterErrorType("federationapi.error", &fedapi.Error{})
}

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
