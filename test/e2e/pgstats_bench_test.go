package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axon-hs/axon/internal/storage"
	"github.com/axon-hs/axon/internal/storage/storagetest"
	"github.com/axon-hs/axon/server/testserver"
)

// pgPhase measures a benchmark phase of a server on PostgreSQL: the CPU
// of the PostgreSQL backends serving its database (user + system, from
// /proc; PostgreSQL runs on this machine in the benchmarks) and, with
// AXON_PG_TRACE set, its statements and round trips. Nothing on SQLite.
type pgPhase struct {
	t      testing.TB
	db     string
	admin  *sql.DB
	cpu0   map[string]time.Duration
	trace0 storage.PGTraceSnapshot
	perf   *exec.Cmd
}

// startPerf records the database's backends with perf (temporary aid).
func (p *pgPhase) startPerf(out string) *exec.Cmd {
	rows, err := p.admin.QueryContext(context.Background(), `SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1`, p.db)
	must(p.t, err)
	var pids []string
	for rows.Next() {
		var pid, app string
		must(p.t, rows.Scan(&pid, &app))
		pids = append(pids, pid)
		fmt.Fprintf(os.Stderr, "perf: backend %s is %s\n", pid, app)
	}
	rows.Close()
	cmd := exec.Command("perf", "record", "-F", "997", "-g", "-o", out, "-p", strings.Join(pids, ","))
	must(p.t, cmd.Start())
	return cmd
}

func startPGPhase(t testing.TB, s *testserver.Instance) *pgPhase {
	dsn := s.Cfg.Database.Default
	if !storage.IsPostgres(dsn) {
		return nil
	}
	u, err := url.Parse(dsn)
	must(t, err)
	admin, err := sql.Open("pgx", storagetest.PostgresAdminDSN())
	must(t, err)
	p := &pgPhase{t: t, db: strings.TrimPrefix(u.Path, "/"), admin: admin}
	p.cpu0 = p.backendCPU()
	if out := os.Getenv("AXON_BENCH_PGPERF"); out != "" {
		p.perf = p.startPerf(out)
	}
	if os.Getenv("AXON_PG_TRACE") != "" {
		p.trace0 = storage.PGTrace.Snapshot()
	}
	return p
}

// backendCPU sums the CPU of the database's backends now connected, by
// application name (the component; a backend that closed during the
// phase is not counted; the pools keep theirs open).
func (p *pgPhase) backendCPU() map[string]time.Duration {
	rows, err := p.admin.QueryContext(context.Background(),
		`SELECT pid, COALESCE(NULLIF(application_name, ''), backend_type) FROM pg_stat_activity WHERE datname = $1`, p.db)
	must(p.t, err)
	defer rows.Close()
	total := map[string]time.Duration{}
	for rows.Next() {
		var pid int
		var app string
		must(p.t, rows.Scan(&pid, &app))
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // ended, or not on this machine
		}
		// Fields after the command's closing parenthesis: utime is the 12th, stime the 13th.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total[app] += time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ 100
	}
	must(p.t, rows.Err())
	return total
}

// report adds PostgreSQL's CPU per unit to b and prints the round trips.
func (p *pgPhase) report(b *testing.B, units int) {
	if p == nil {
		return
	}
	defer p.admin.Close()
	if p.perf != nil {
		must(b, p.perf.Process.Signal(os.Interrupt))
		_ = p.perf.Wait()
	}
	var sum time.Duration
	for app, cpu := range p.backendCPU() {
		cpu -= p.cpu0[app]
		sum += cpu
		fmt.Fprintf(os.Stderr, "PostgreSQL CPU %s: %.1f µs per event\n", app, float64(cpu.Microseconds())/float64(units))
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(units), "pg-cpu-µs/event")
	if p.trace0 != nil {
		storage.PGTrace.WriteSince(os.Stderr, p.trace0, p.db, units)
	}
}
