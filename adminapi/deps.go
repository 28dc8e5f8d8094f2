package adminapi

import (
	"context"

	fedapi "github.com/axon-hs/axon/federationapi/api"
	mapi "github.com/axon-hs/axon/mediaapi/api"
	rapi "github.com/axon-hs/axon/reports/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// Deps are the components the admin API acts through.
type Deps struct {
	Users uapi.UserAPI
	Rooms rsapi.RoomserverAPI
	// Federation is nil when federation is disabled.
	Federation fedapi.FederationAPI
	// Reports are users' reports of events (the reports component).
	Reports EventReports
	// Version is the server version reported by server_version.
	Version string
	// Media is mediaapi's administration (in-process or over RPC).
	Media MediaAdmin
}

// MediaAdmin is what the media admin endpoints ask of mediaapi.
type MediaAdmin interface {
	UserMedia(ctx context.Context, q mapi.UserMediaQuery) (*mapi.UserMediaPage, error)
	DeleteUserMedia(ctx context.Context, q mapi.UserMediaQuery) ([]string, error)
	MediaInfo(ctx context.Context, origin, mediaID string) (*mapi.Media, error)
	Quarantine(ctx context.Context, media []mapi.MXC, by string) (int, error)
	QuarantineUserMedia(ctx context.Context, userID, by string) (int, error)
	Unquarantine(ctx context.Context, origin, mediaID string) error
	SetProtected(ctx context.Context, mediaID string, protected bool) error
	DeleteMedia(ctx context.Context, origin, mediaID string) error
	DeleteLocalMedia(ctx context.Context, q mapi.DeleteLocalQuery) ([]string, error)
	PurgeRemoteCache(ctx context.Context, beforeTS int64) (int, error)
}

// EventReports is what the admin API reads and deletes of the reports
// component (reports/api.ReportsAPI).
type EventReports interface {
	QueryEventReports(ctx context.Context, q rapi.EventReportsQuery) (*rapi.EventReportsPage, error)
	QueryEventReport(ctx context.Context, id int64) (*rapi.EventReport, error)
	DeleteEventReport(ctx context.Context, id int64) error
}
