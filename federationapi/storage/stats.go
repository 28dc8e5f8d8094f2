package storage

import "context"

// QueueStats is the outbound queue's size: items waiting, destinations
// with items, and the deepest destination's item count.
type QueueStats struct {
	Items, Destinations, Deepest int64
}

// QueueStats counts what the outbound queue holds.
func (s *DB) QueueStats(ctx context.Context) (QueueStats, error) {
	var q QueueStats
	err := s.DB.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0), COUNT(*), COALESCE(MAX(n), 0)
		FROM (SELECT COUNT(*) AS n FROM federationapi_queue GROUP BY destination) AS per_destination`).Scan(&q.Items, &q.Destinations, &q.Deepest)
	return q, err
}

// DestinationStats counts destinations failing (backing off) and
// blacklisted.
func (s *DB) DestinationStats(ctx context.Context) (failing, blacklisted int64, err error) {
	err = s.DB.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN blacklisted THEN 0 ELSE 1 END), 0), COALESCE(SUM(CASE WHEN blacklisted THEN 1 ELSE 0 END), 0)
		FROM federationapi_destinations`).Scan(&failing, &blacklisted)
	return failing, blacklisted, err
}
