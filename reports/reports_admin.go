package reports

import (
	"context"
	"errors"

	istorage "github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/reports/api"
	"github.com/axon-hs/axon/reports/storage"
)

// What the admin API asks of the reports (api.ReportsAPI).

var _ api.ReportsAPI = (*Reports)(nil)

// QueryEventReports implements api.ReportsAPI.
func (r *Reports) QueryEventReports(ctx context.Context, q api.EventReportsQuery) (*api.EventReportsPage, error) {
	rows, total, err := r.db.EventReports(ctx, storage.EventReportFilter{
		RoomID: q.RoomID, Reporter: q.UserID, Forward: q.Forward, From: max(0, q.From), Limit: min(max(1, q.Limit), 1000),
	})
	if err != nil {
		return nil, err
	}
	page := &api.EventReportsPage{Total: total, Reports: make([]api.EventReport, 0, len(rows))}
	for _, row := range rows {
		page.Reports = append(page.Reports, eventReport(row))
	}
	return page, nil
}

// QueryEventReport implements api.ReportsAPI.
func (r *Reports) QueryEventReport(ctx context.Context, id int64) (*api.EventReport, error) {
	row, err := r.db.EventReport(ctx, id)
	if errors.Is(err, istorage.ErrNotFound) {
		return nil, api.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rep := eventReport(*row)
	return &rep, nil
}

// DeleteEventReport implements api.ReportsAPI.
func (r *Reports) DeleteEventReport(ctx context.Context, id int64) error {
	err := r.db.DeleteEventReport(ctx, id)
	if errors.Is(err, istorage.ErrNotFound) {
		return api.ErrNotFound
	}
	return err
}

func eventReport(row storage.Report) api.EventReport {
	return api.EventReport{ID: row.ID, RoomID: row.RoomID, EventID: row.EventID, Reporter: row.Reporter, Reason: row.Reason, Score: row.Score, TS: row.TS}
}
