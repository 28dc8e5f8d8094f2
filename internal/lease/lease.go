// Package lease shares a fixed set of partitions among the live processes
// (instances) that run one component, through leases in a NATS JetStream
// key-value bucket, so each partition has at most one owner at a time and
// a dead owner's partitions move to the survivors.
//
// The bucket's entries expire TTL after they were last written (the
// bucket's max age):
//
//   - "instance.<name>": each instance's heartbeat, rewritten every tick;
//     the live instances are those whose heartbeat has not expired.
//   - "partition.<n>": the owner's name. It is taken with a create (which
//     fails while a live entry exists), renewed with an update on the
//     revision last written (compare-and-set, so a lease that expired and
//     was taken by another cannot be renewed) and given back with a
//     delete on that revision.
//
// Each partition goes to the instance that scores highest for it among the
// live instances (rendezvous hashing): the partitions spread about evenly,
// and an instance joining or leaving moves only its own share. An owner
// gives a partition back when another live instance scores higher; a
// partition whose preferred instance does not take it is taken by anyone
// after a few ticks.
//
// Epoch: a lease's epoch is the revision at which it was created (with the
// bucket's creation time, so a bucket created again still orders after the
// old one). Epochs of one partition only grow, so a store that records the
// newest epoch it has seen for a partition, and checks a writer's epoch in
// the same transaction as the write, refuses a former owner that was
// paused past its lease (fencing; see roomserver/partition.go).
//
// An owner stops counting a lease as held ¾ TTL after the last renewal it
// sent (Owner checks the time itself, so a held-up manager loop cannot
// stretch it), before the entry can expire at the server.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Epoch orders the leases of one partition: a later lease has a larger
// epoch.
type Epoch struct {
	// Gen is the bucket's creation time (Unix nanoseconds).
	Gen int64 `json:"gen"`
	// Rev is the revision of the create that took the lease.
	Rev uint64 `json:"rev"`
}

// Less reports whether e is older than o.
func (e Epoch) Less(o Epoch) bool {
	return e.Gen < o.Gen || (e.Gen == o.Gen && e.Rev < o.Rev)
}

func (e Epoch) String() string { return fmt.Sprintf("%d/%d", e.Gen, e.Rev) }

// Handler is told about partitions changing hands. Both are called from
// the manager's goroutine (Lost also from Lose's caller), one at a time.
type Handler interface {
	// Acquired is called when this instance has taken partition p,
	// before Owner reports it: the place to record the epoch with the
	// data (fencing) and catch up on what the former owner left. An
	// error gives the lease back.
	Acquired(ctx context.Context, p int, e Epoch) error
	// Lost is called once Owner no longer reports p: it was given back,
	// taken by another instance, or its renewal failed.
	Lost(p int)
}

// Taker is a Handler that also wants to know when Owner starts
// reporting a partition (Acquired runs before): the place to start work
// that checks Owner. Taken is called with the manager's lock held, so it
// must not block (start a goroutine).
type Taker interface {
	Taken(p int)
}

// Config names the instance and the partitions.
type Config struct {
	// Component labels logs and metrics, e.g. "roomserver".
	Component string
	// Instance is this process's name, unique among those running the
	// component.
	Instance string
	// Partitions is how many partitions there are (every instance must
	// agree; one that disagrees with a live instance does not start).
	Partitions int
	// TTL is how long a lease (and a heartbeat) lasts unrenewed: a dead
	// instance's partitions are free this long after its last renewal.
	TTL  time.Duration
	Log  *slog.Logger
	Tick time.Duration // 0: TTL/5
}

// Manager holds this instance's leases.
type Manager struct {
	cfg Config
	kv  jetstream.KeyValue
	h   Handler
	gen int64

	owned []atomic.Pointer[lead] // what Owner reports

	mu   sync.Mutex
	held map[int]*held // guarded by mu
	// absent counts consecutive ticks a partition was seen free.
	absent map[int]int

	stop      chan struct{}
	done      chan struct{}
	frozen    atomic.Bool
	closeOnce sync.Once
}

type held struct {
	epoch     Epoch
	rev       uint64    // revision last written
	renewedAt time.Time // when the last successful write was sent
	lead      *lead     // once reported by Owner
}

// lead is a held lease as Owner reports it: valid until a point well
// before the server can expire it, moved on by each renewal, so a
// manager whose loop is held up stops reporting it in time by itself.
type lead struct {
	e     Epoch
	until atomic.Int64 // Unix nanoseconds
}

// validFor is how long after a renewal was sent Owner keeps reporting it.
func (m *Manager) validFor() time.Duration { return m.cfg.TTL - m.cfg.TTL/4 }

type heartbeat struct {
	Partitions int `json:"partitions"`
}

var (
	ownedGauge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "axon_partitions_owned",
		Help: "Partitions this process holds the lease of, by component and instance.",
	}, []string{"component", "instance"})
	ownerGauge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "axon_partition_owned",
		Help: "1 for each partition this process holds the lease of (0 once given up).",
	}, []string{"component", "instance", "partition"})
	handovers = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "axon_partition_handovers_total",
		Help: "Partition leases taken (acquired), given back (released) and lost (expired, taken over or fenced) by this process.",
	}, []string{"component", "instance", "kind"})
)

// Start takes part in the sharing of cfg.Partitions partitions through kv
// (a bucket whose TTL is cfg.TTL). It returns after the first round, in
// which a lone instance takes every free partition; ctx bounds only that
// round. It gives all leases back on Close.
func Start(ctx context.Context, kv jetstream.KeyValue, cfg Config, h Handler) (*Manager, error) {
	if cfg.Partitions <= 0 || cfg.Instance == "" || cfg.TTL <= 0 {
		return nil, errors.New("lease: partitions, instance and TTL must be set")
	}
	if strings.ContainsAny(cfg.Instance, ".*> \t") {
		return nil, fmt.Errorf("lease: instance name %q must not contain dots, spaces or wildcards", cfg.Instance)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Tick <= 0 {
		cfg.Tick = max(cfg.TTL/5, 20*time.Millisecond)
	}
	cfg.Log = cfg.Log.With("component", cfg.Component, "instance", cfg.Instance)
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("lease bucket: %w", err)
	}
	if st.TTL() != cfg.TTL {
		return nil, fmt.Errorf("lease bucket %s has TTL %s, want %s", st.Bucket(), st.TTL(), cfg.TTL)
	}
	var gen int64
	if s, ok := st.(*jetstream.KeyValueBucketStatus); ok {
		gen = s.StreamInfo().Created.UnixNano()
	}
	m := &Manager{cfg: cfg, kv: kv, h: h, gen: gen, owned: make([]atomic.Pointer[lead], cfg.Partitions),
		held: map[int]*held{}, absent: map[int]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	for p := 0; p < cfg.Partitions; p++ {
		ownerGauge.WithLabelValues(cfg.Component, cfg.Instance, strconv.Itoa(p)).Set(0)
	}
	if err := m.step(ctx, true); err != nil {
		return nil, err
	}
	go m.run()
	return m, nil
}

// Owner reports whether this instance holds p, and the lease's epoch.
func (m *Manager) Owner(p int) (Epoch, bool) {
	l := m.owned[p].Load()
	if l == nil || (!m.frozen.Load() && time.Now().UnixNano() > l.until.Load()) {
		return Epoch{}, false
	}
	return l.e, true
}

// Owned lists the partitions this instance holds.
func (m *Manager) Owned() []int {
	var out []int
	for p := range m.owned {
		if _, ok := m.Owner(p); ok {
			out = append(out, p)
		}
	}
	return out
}

// Partitions is the configured partition count.
func (m *Manager) Partitions() int { return m.cfg.Partitions }

// Partition is the partition of key: a stable hash (FNV-1a) modulo n, the
// same in every process and release.
func Partition(key string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// Lose gives up p at epoch e at once: the caller learned that a newer
// lease exists (its write was fenced). Nothing happens if p is no longer
// held at e.
func (m *Manager) Lose(p int, e Epoch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if hl := m.held[p]; hl != nil && hl.epoch == e {
		m.cfg.Log.Warn("partition lease superseded", "partition", p, "epoch", e)
		m.dropLocked(p, "lost")
	}
}

// Freeze stops renewing and reconciling but keeps reporting the leases
// held as held, past their local validity — what a process that checked
// its lease and then stalled (a long GC pause, SIGSTOP) does when it
// wakes. It exists for tests that check fencing; Close still works.
func (m *Manager) Freeze() {
	m.frozen.Store(true)
}

// Close gives back every lease (Lost is called for each first) and stops.
func (m *Manager) Close() {
	m.closeOnce.Do(func() {
		close(m.stop)
		<-m.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.mu.Lock()
		defer m.mu.Unlock()
		for p := range m.held {
			m.releaseLocked(ctx, p)
		}
		if !m.frozen.Load() {
			_ = m.kv.Delete(ctx, m.instanceKey())
		}
	})
}

func (m *Manager) instanceKey() string { return "instance." + m.cfg.Instance }
func partitionKey(p int) string        { return "partition." + strconv.Itoa(p) }
func (m *Manager) opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), max(m.cfg.TTL/3, 200*time.Millisecond))
}

func (m *Manager) run() {
	defer close(m.done)
	t := time.NewTicker(m.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		if m.frozen.Load() {
			continue
		}
		if err := m.step(context.Background(), false); err != nil {
			m.cfg.Log.Warn("partition leases", "error", err)
		}
	}
}

// step is one round: heartbeat, read the bucket, renew or give back what
// is held, take what is free.
func (m *Manager) step(ctx context.Context, first bool) error {
	opCtx, cancel := m.opCtx()
	hb, _ := json.Marshal(heartbeat{Partitions: m.cfg.Partitions})
	_, hbErr := m.kv.Put(opCtx, m.instanceKey(), hb)
	cancel()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expireLocked()
	if hbErr != nil {
		return fmt.Errorf("heartbeat: %w", hbErr)
	}
	snap, err := m.snapshot()
	if err != nil {
		return err
	}
	live := []string{}
	for k, e := range snap {
		name, ok := strings.CutPrefix(k, "instance.")
		if !ok {
			continue
		}
		var h heartbeat
		if json.Unmarshal(e.Value(), &h) == nil && h.Partitions != m.cfg.Partitions {
			err := fmt.Errorf("instance %s runs %d partitions, this one %d: all instances must agree", name, h.Partitions, m.cfg.Partitions)
			if first {
				_ = m.kv.Delete(ctx, m.instanceKey())
				return err
			}
			m.cfg.Log.Error("ignoring an instance configured differently", "error", err)
			continue
		}
		live = append(live, name)
	}
	isLive := make(map[string]bool, len(live))
	for _, n := range live {
		isLive[n] = true
	}
	isLive[m.cfg.Instance] = true
	if !slicesContains(live, m.cfg.Instance) {
		live = append(live, m.cfg.Instance)
	}
	start := time.Now()
	// Held partitions first: renewals must not wait behind acquisitions.
	for p, hl := range m.held {
		e := snap[partitionKey(p)]
		if e == nil || string(e.Value()) != m.cfg.Instance || e.Revision() != hl.rev {
			m.cfg.Log.Warn("partition lease gone", "partition", p)
			m.dropLocked(p, "lost")
			continue
		}
		if want := preferred(live, p); want != m.cfg.Instance && isLive[want] {
			octx, cancel := m.opCtx()
			m.releaseLocked(octx, p)
			cancel()
			continue
		}
		if time.Since(hl.renewedAt) >= m.cfg.TTL/3 {
			m.renewLocked(p, hl)
		}
	}
	for p := 0; p < m.cfg.Partitions; p++ {
		if m.held[p] != nil {
			continue
		}
		if snap[partitionKey(p)] != nil {
			m.absent[p] = 0
			continue
		}
		m.absent[p]++
		if preferred(live, p) != m.cfg.Instance && m.absent[p] < 4 {
			continue
		}
		if !first && time.Since(start) > m.cfg.TTL/4 {
			break // the rest next round, after renewals
		}
		m.acquireLocked(ctx, p)
	}
	ownedGauge.WithLabelValues(m.cfg.Component, m.cfg.Instance).Set(float64(len(m.held)))
	return nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// snapshot reads every live entry of the bucket.
func (m *Manager) snapshot() (map[string]jetstream.KeyValueEntry, error) {
	ctx, cancel := context.WithTimeout(context.Background(), max(m.cfg.TTL/2, time.Second))
	defer cancel()
	w, err := m.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	defer func() { _ = w.Stop() }()
	out := map[string]jetstream.KeyValueEntry{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("read leases: watcher closed")
			}
			if e == nil { // caught up
				return out, nil
			}
			out[e.Key()] = e
		case <-ctx.Done():
			return nil, fmt.Errorf("read leases: %w", ctx.Err())
		}
	}
}

// preferred is the live instance scoring highest for p.
func preferred(live []string, p int) string {
	best, bestScore := "", uint64(0)
	for _, name := range live {
		h := fnv.New64a()
		_, _ = h.Write([]byte(name))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(strconv.Itoa(p)))
		s := mix(h.Sum64())
		if best == "" || s > bestScore || (s == bestScore && name < best) {
			best, bestScore = name, s
		}
	}
	return best
}

// mix spreads FNV's output (whose high bits vary little for inputs that
// differ only at the end).
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func (m *Manager) acquireLocked(ctx context.Context, p int) {
	octx, cancel := m.opCtx()
	sent := time.Now()
	rev, err := m.kv.Create(octx, partitionKey(p), []byte(m.cfg.Instance))
	cancel()
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			m.cfg.Log.Warn("take partition lease", "partition", p, "error", err)
		}
		return
	}
	e := Epoch{Gen: m.gen, Rev: rev}
	hl := &held{epoch: e, rev: rev, renewedAt: sent}
	m.held[p] = hl
	if err := m.h.Acquired(ctx, p, e); err != nil {
		m.cfg.Log.Error("partition not taken over", "partition", p, "epoch", e, "error", err)
		octx, cancel := m.opCtx()
		_ = m.kv.Delete(octx, partitionKey(p), jetstream.LastRevision(hl.rev))
		cancel()
		delete(m.held, p)
		return
	}
	// Taking over may have taken a while: renew before reporting it.
	if !m.renewLocked(p, hl) {
		return
	}
	hl.lead = &lead{e: e}
	hl.lead.until.Store(hl.renewedAt.Add(m.validFor()).UnixNano())
	m.owned[p].Store(hl.lead)
	if t, ok := m.h.(Taker); ok {
		t.Taken(p)
	}
	ownerGauge.WithLabelValues(m.cfg.Component, m.cfg.Instance, strconv.Itoa(p)).Set(1)
	handovers.WithLabelValues(m.cfg.Component, m.cfg.Instance, "acquired").Inc()
	m.cfg.Log.Info("partition taken", "partition", p, "epoch", e)
}

// renewLocked rewrites p's lease on the revision last written.
func (m *Manager) renewLocked(p int, hl *held) bool {
	octx, cancel := m.opCtx()
	defer cancel()
	sent := time.Now()
	rev, err := m.kv.Update(octx, partitionKey(p), []byte(m.cfg.Instance), hl.rev)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) {
			m.cfg.Log.Warn("partition lease taken by another", "partition", p)
			m.dropLocked(p, "lost")
			return false
		}
		m.cfg.Log.Warn("renew partition lease", "partition", p, "error", err)
		return true // retried next round; expireLocked gives it up in time
	}
	hl.rev, hl.renewedAt = rev, sent
	if hl.lead != nil {
		hl.lead.until.Store(sent.Add(m.validFor()).UnixNano())
	}
	return true
}

// expireLocked gives up leases whose renewal has failed for so long that
// the server may expire them soon.
func (m *Manager) expireLocked() {
	for p, hl := range m.held {
		if time.Since(hl.renewedAt) > m.validFor() {
			m.cfg.Log.Warn("partition lease not renewed in time", "partition", p)
			m.dropLocked(p, "lost")
		}
	}
}

// releaseLocked stops owning p, then deletes its lease so another can
// take it at once.
func (m *Manager) releaseLocked(ctx context.Context, p int) {
	hl := m.held[p]
	m.dropLocked(p, "released")
	if hl != nil && !m.frozen.Load() {
		if err := m.kv.Delete(ctx, partitionKey(p), jetstream.LastRevision(hl.rev)); err != nil {
			m.cfg.Log.Warn("give back partition lease", "partition", p, "error", err)
		}
	}
}

func (m *Manager) dropLocked(p int, kind string) {
	if m.held[p] == nil {
		return
	}
	delete(m.held, p)
	m.owned[p].Store(nil)
	m.h.Lost(p)
	ownerGauge.WithLabelValues(m.cfg.Component, m.cfg.Instance, strconv.Itoa(p)).Set(0)
	ownedGauge.WithLabelValues(m.cfg.Component, m.cfg.Instance).Set(float64(len(m.held)))
	handovers.WithLabelValues(m.cfg.Component, m.cfg.Instance, kind).Inc()
	if kind == "released" {
		m.cfg.Log.Info("partition given back", "partition", p)
	}
}
