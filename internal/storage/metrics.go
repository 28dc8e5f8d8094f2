package storage

import (
	"database/sql"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Database metrics, by component database (db: "userapi", "roomserver",
// ...). Pools: "read" and "write" on SQLite (four readers, one writer),
// "shared" on PostgreSQL (one pool of 20).

var queryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Namespace: "axon",
	Name:      "db_query_duration_seconds",
	Help:      "Database call latency by component database and op: read (a query until its rows are returned) or write_tx (a write transaction from the call to its commit, waiting for the writer included).",
	Buckets:   []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
}, []string{"db", "op"})

// groupSize is how many callers' write transactions each SQLite commit
// carried (group commit: groupcommit.go); a commit's cost is mostly its
// pages, shared by the group, so small groups under load mean CPU spent
// rewriting the same pages.
var groupSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Namespace: "axon",
	Name:      "db_write_group_size",
	Help:      "Write transactions committed together in one SQLite commit, by component database.",
	Buckets:   []float64{1, 2, 4, 8, 16, 32, 64},
}, []string{"db"})

var (
	poolOpen = prometheus.NewDesc("axon_db_pool_open_connections",
		"Open connections of a database pool.", []string{"db", "pool"}, nil)
	poolInUse = prometheus.NewDesc("axon_db_pool_in_use_connections",
		"Connections of a database pool in use.", []string{"db", "pool"}, nil)
	poolMax = prometheus.NewDesc("axon_db_pool_max_open_connections",
		"Connection limit of a database pool.", []string{"db", "pool"}, nil)
	poolWaits = prometheus.NewDesc("axon_db_pool_waits_total",
		"Times a caller waited for a free connection of a database pool.", []string{"db", "pool"}, nil)
	poolWaitSeconds = prometheus.NewDesc("axon_db_pool_wait_seconds_total",
		"Time callers spent waiting for a free connection of a database pool.", []string{"db", "pool"}, nil)
)

// poolCollector reads database/sql's pool statistics of the open,
// instrumented databases at each scrape (no cost between scrapes).
// Databases of one name are summed: a real process has one per component;
// tests run several servers in one process.
type poolCollector struct {
	mu  sync.Mutex
	dbs map[*DB]string
}

var pools = &poolCollector{dbs: map[*DB]string{}}

func init() { prometheus.MustRegister(queryDuration, groupSize, pools) }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolMax, poolWaits, poolWaitSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ db, pool string }
	sums := map[key]*sql.DBStats{}
	add := func(name, pool string, s sql.DBStats) {
		k := key{name, pool}
		t := sums[k]
		if t == nil {
			t = &sql.DBStats{}
			sums[k] = t
		}
		t.OpenConnections += s.OpenConnections
		t.InUse += s.InUse
		t.MaxOpenConnections += s.MaxOpenConnections
		t.WaitCount += s.WaitCount
		t.WaitDuration += s.WaitDuration
	}
	c.mu.Lock()
	for db, name := range c.dbs {
		if db.writer == db.reader {
			add(name, "shared", db.reader.Stats())
			continue
		}
		add(name, "read", db.reader.Stats())
		add(name, "write", db.writer.Stats())
	}
	c.mu.Unlock()
	for k, s := range sums {
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.OpenConnections), k.db, k.pool)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse), k.db, k.pool)
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxOpenConnections), k.db, k.pool)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), k.db, k.pool)
		ch <- prometheus.MustNewConstMetric(poolWaitSeconds, prometheus.CounterValue, s.WaitDuration.Seconds(), k.db, k.pool)
	}
}

// dbMetrics are one database's observers (nil until Instrument).
type dbMetrics struct {
	read, write, group prometheus.Observer
}

// Instrument names the database in the metrics (its component) and
// starts recording its query latencies and pool statistics, until Close.
func (db *DB) Instrument(name string) {
	db.metrics = &dbMetrics{read: queryDuration.WithLabelValues(name, "read"), write: queryDuration.WithLabelValues(name, "write_tx"),
		group: groupSize.WithLabelValues(name)}
	pools.mu.Lock()
	pools.dbs[db] = name
	pools.mu.Unlock()
}

func (db *DB) uninstrument() {
	pools.mu.Lock()
	delete(pools.dbs, db)
	pools.mu.Unlock()
}

func (db *DB) observeRead(start time.Time) {
	if db.metrics != nil {
		db.metrics.read.Observe(time.Since(start).Seconds())
	}
}

func (db *DB) observeWrite(start time.Time) {
	if db.metrics != nil {
		db.metrics.write.Observe(time.Since(start).Seconds())
	}
}

func (db *DB) observeGroup(n int) {
	if db.metrics != nil {
		db.metrics.group.Observe(float64(n))
	}
}
