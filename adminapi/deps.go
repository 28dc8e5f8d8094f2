package adminapi

import (
	"context"

	fedapi "github.com/axon-hs/axon/federationapi/api"
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
}

// EventReports is what the admin API reads and deletes of the reports
// component (reports/api.ReportsAPI).
type EventReports interface {
	QueryEventReports(ctx context.Context, q rapi.EventReportsQuery) (*rapi.EventReportsPage, error)
	QueryEventReport(ctx context.Context, id int64) (*rapi.EventReport, error)
	DeleteEventReport(ctx context.Context, id int64) error
}
