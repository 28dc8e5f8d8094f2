package storage

import (
	"context"

	istorage "github.com/axon-hs/axon/internal/storage"
)

// Destination is a remote server's delivery health.
type Destination struct {
	ServerName     string
	Failures       int64
	FirstFailureTS int64 // ms; 0 when healthy
	RetryAtTS      int64 // ms; do not try before
	Blacklisted    bool
}

// Destination returns the stored state, or a healthy zero state.
func (s *DB) Destination(ctx context.Context, serverName string) (Destination, error) {
	d := Destination{ServerName: serverName}
	err := s.DB.QueryRowContext(ctx, `SELECT failures, first_failure_ts, retry_at_ts, blacklisted
		FROM federationapi_destinations WHERE server_name = $1`, serverName).
		Scan(&d.Failures, &d.FirstFailureTS, &d.RetryAtTS, &d.Blacklisted)
	if isNoRows(err) {
		return d, nil
	}
	return d, err
}

// SetDestination stores d; a healthy state deletes the row.
func (s *DB) SetDestination(ctx context.Context, d Destination) error {
	if d.Failures == 0 && !d.Blacklisted {
		_, err := s.DB.ExecContext(ctx, `DELETE FROM federationapi_destinations WHERE server_name = $1`, d.ServerName)
		return err
	}
	_, err := s.DB.ExecContext(ctx, `INSERT INTO federationapi_destinations (server_name, failures, first_failure_ts, retry_at_ts, blacklisted)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (server_name) DO UPDATE SET failures = excluded.failures, first_failure_ts = excluded.first_failure_ts,
			retry_at_ts = excluded.retry_at_ts, blacklisted = excluded.blacklisted`,
		d.ServerName, d.Failures, d.FirstFailureTS, d.RetryAtTS, d.Blacklisted)
	return err
}

// FailingDestinations lists servers with recorded failures or blacklisted.
func (s *DB) FailingDestinations(ctx context.Context) ([]string, error) {
	return istorage.Strings(s.DB.QueryContext(ctx, `SELECT server_name FROM federationapi_destinations`))
}

// Destinations returns every stored (failing or blacklisted) state, by
// server name.
func (s *DB) Destinations(ctx context.Context) ([]Destination, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT server_name, failures, first_failure_ts, retry_at_ts, blacklisted
		FROM federationapi_destinations ORDER BY server_name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Destination
	for rows.Next() {
		var d Destination
		if err := rows.Scan(&d.ServerName, &d.Failures, &d.FirstFailureTS, &d.RetryAtTS, &d.Blacklisted); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
