// Package api is what other components may ask of the federation
// component: act in rooms on other servers (join, leave, invite),
// look things up on them (aliases, profiles) and fetch history.
package api

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface FederationAPI

import (
	"context"
	"encoding/json"

	"github.com/axon-hs/axon/internal/matrixid"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
)

// FederationAPI is served by federationapi.FederationAPI. Every method
// bounds its network calls with timeouts.
type FederationAPI interface {
	// PerformJoin joins a local user to a room this server is not in,
	// through make_join/send_join on the first of ServerNames that
	// answers (then the room ID's domain). It returns the room ID.
	PerformJoin(ctx context.Context, req *PerformJoinRequest) (*PerformJoinResponse, error)
	// PerformLeave leaves (or rejects an invite to) a room this server is
	// not in, through make_leave/send_leave.
	PerformLeave(ctx context.Context, req *PerformLeaveRequest) error
	// PerformInvite invites a user of another server to a local room: the
	// invite is countersigned by their server (/invite v2), then sent.
	PerformInvite(ctx context.Context, req *PerformInviteRequest) (eventID matrixid.EventID, err error)
	// PerformKnock knocks on a room of another server for a local user,
	// through make_knock/send_knock (same request shape as a join).
	PerformKnock(ctx context.Context, req *PerformJoinRequest) (*PerformJoinResponse, error)
	// RequestOpenIDToken issues a short-lived OpenID token that other
	// servers can check with federation /openid/userinfo. Tokens are held
	// in memory: a restart invalidates them.
	RequestOpenIDToken(ctx context.Context, userID matrixid.UserID) (*OpenIDToken, error)
	// QueryRoomAlias resolves an alias of another server.
	QueryRoomAlias(ctx context.Context, alias string) (*RoomAlias, error)
	// QueryProfile reads a remote user's profile (field "" for all).
	QueryProfile(ctx context.Context, userID matrixid.UserID, field string) (map[string]json.RawMessage, error)
	// QueryPublicRooms reads a page of another server's public room
	// directory (POST /publicRooms), returned as that server sent it.
	QueryPublicRooms(ctx context.Context, server string, q PublicRoomsQuery) (json.RawMessage, error)
	// QueryHierarchy asks other servers about a space they know and this
	// server may not (federation /hierarchy): the first of Servers (then
	// the room ID's domain) that answers. Another server's "no" (M_NOT_FOUND,
	// M_FORBIDDEN) is returned as an *Error with that code.
	QueryHierarchy(ctx context.Context, req *HierarchyRequest) (*HierarchyResponse, error)
	// Backfill fetches up to limit events before fromEventIDs from the
	// other servers in the room and inputs them as history.
	Backfill(ctx context.Context, roomID matrixid.RoomID, fromEventIDs []matrixid.EventID, limit int) (int, error)

	// QueryRemoteKeys and ClaimRemoteKeys ask server for its users' keys
	// (federation /user/keys/query and /user/keys/claim); they make this
	// interface a keyserver.Remote, so the keyserver can federate through
	// it in a polylith too.
	QueryRemoteKeys(ctx context.Context, server string, deviceKeys map[string][]string) (*ksapi.QueryKeysResponse, error)
	ClaimRemoteKeys(ctx context.Context, server string, oneTimeKeys map[string]map[string]string) (*ksapi.ClaimKeysResponse, error)

	// VerifyRequest checks the X-Matrix signature of a federation request
	// another component received (mediaapi's streaming routes) and returns
	// the origin server; an *Error (401 M_UNAUTHORIZED) when it fails.
	VerifyRequest(ctx context.Context, req *SignedRequest) (origin string, err error)

	// QueryDestinations lists the servers outbound federation is failing
	// to reach or has given up on (healthy ones have no recorded state),
	// by server name (server administration).
	QueryDestinations(ctx context.Context) ([]Destination, error)
	// ResetDestination ends a server's backoff: the next send is tried
	// at once.
	ResetDestination(ctx context.Context, serverName string) error
}

// Destination is the retry state of an outbound destination.
type Destination struct {
	ServerName string `json:"server_name"`
	// Failures in a row since FirstFailureTS (ms).
	Failures       int64 `json:"failures"`
	FirstFailureTS int64 `json:"first_failure_ts"`
	// RetryAtTS (ms): nothing is sent before then.
	RetryAtTS   int64 `json:"retry_at_ts"`
	Blacklisted bool  `json:"blacklisted"`
}

// SignedRequest is what an X-Matrix signature covers.
type SignedRequest struct {
	Method        string          `json:"method"`
	RequestURI    string          `json:"request_uri"`
	Authorization []string        `json:"authorization"`
	Content       json.RawMessage `json:"content,omitempty"`
}

// PerformJoinRequest joins UserID to RoomIDOrAlias.
type PerformJoinRequest struct {
	RoomIDOrAlias string          `json:"room_id_or_alias"`
	UserID        string          `json:"user_id"`
	ServerNames   []string        `json:"server_names,omitempty"`
	Content       json.RawMessage `json:"content,omitempty"`
}

// PerformJoinResponse names the joined room.
type PerformJoinResponse struct {
	RoomID  string `json:"room_id"`
	EventID string `json:"event_id"`
}

// PerformLeaveRequest leaves RoomID.
type PerformLeaveRequest struct {
	RoomID      string          `json:"room_id"`
	UserID      string          `json:"user_id"`
	ServerNames []string        `json:"server_names,omitempty"`
	Content     json.RawMessage `json:"content,omitempty"`
}

// PerformInviteRequest invites Invitee (on another server) to RoomID.
type PerformInviteRequest struct {
	RoomID  string          `json:"room_id"`
	Inviter string          `json:"inviter"`
	Invitee string          `json:"invitee"`
	Content json.RawMessage `json:"content,omitempty"`
}

// OpenIDToken is the body of a CS /openid/request_token response.
type OpenIDToken struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	MatrixServerName string `json:"matrix_server_name"`
	ExpiresIn        int    `json:"expires_in"`
}

// RoomAlias is a resolved alias.
type RoomAlias struct {
	RoomID  string   `json:"room_id"`
	Servers []string `json:"servers"`
}

// PublicRoomsQuery is a page request of a remote room directory.
type PublicRoomsQuery struct {
	Limit                int    `json:"limit,omitempty"`
	Since                string `json:"since,omitempty"`
	Filter               string `json:"filter,omitempty"`
	IncludeAllNetworks   bool   `json:"include_all_networks,omitempty"`
	ThirdPartyInstanceID string `json:"third_party_instance_id,omitempty"`
}

// HierarchyRequest asks about RoomID through Servers.
type HierarchyRequest struct {
	RoomID        string   `json:"room_id"`
	Servers       []string `json:"servers,omitempty"`
	SuggestedOnly bool     `json:"suggested_only,omitempty"`
}

// HierarchyResponse is another server's answer: the room, those of its
// children that server knows and lets us see, and the children it knows
// we may not see (not to be asked about elsewhere).
type HierarchyResponse struct {
	Room                 rsapi.HierarchyRoom   `json:"room"`
	Children             []rsapi.HierarchyRoom `json:"children"`
	InaccessibleChildren []string              `json:"inaccessible_children"`
}
