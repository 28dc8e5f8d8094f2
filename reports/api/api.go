// Package api is what other components (the admin API) may ask of the
// reports component: reading and deleting users' reports of events.
package api

//go:generate go run github.com/axon-hs/axon/internal/rpc/rpcgen -iface ReportsAPI

import "context"

// ReportsAPI reads the stored reports of events (server administration).
type ReportsAPI interface {
	// QueryEventReports pages through reports of events, newest first
	// unless Forward.
	QueryEventReports(ctx context.Context, q EventReportsQuery) (*EventReportsPage, error)
	// QueryEventReport returns one report of an event, or ErrNotFound.
	QueryEventReport(ctx context.Context, id int64) (*EventReport, error)
	// DeleteEventReport deletes one report of an event, or ErrNotFound.
	DeleteEventReport(ctx context.Context, id int64) error
}

// EventReportsQuery filters and pages QueryEventReports.
type EventReportsQuery struct {
	// From is an offset into the ordered list; Limit at most 1000.
	From  int `json:"from"`
	Limit int `json:"limit"`
	// Forward lists oldest first.
	Forward bool `json:"forward,omitempty"`
	// RoomID and UserID (the reporter) filter when set.
	RoomID string `json:"room_id,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

// EventReport is one user's report of an event.
type EventReport struct {
	ID      int64  `json:"id"`
	RoomID  string `json:"room_id"`
	EventID string `json:"event_id"`
	// Reporter is the reporting user.
	Reporter string `json:"reporter"`
	Reason   string `json:"reason"`
	// Score is nil when the client sent none.
	Score *int `json:"score,omitempty"`
	// TS is when it was received (ms).
	TS int64 `json:"ts"`
}

// EventReportsPage is one page and the number of matching reports.
type EventReportsPage struct {
	Reports []EventReport `json:"reports"`
	Total   int           `json:"total"`
}
