package appservice

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/axon-hs/axon/appservice/storage"
	"github.com/axon-hs/axon/internal/config"
)

const (
	// maxTxnItems bounds one transaction (events, ephemeral and to-device together).
	maxTxnItems = 100
	// Backoff while an appservice fails: doubling from minBackoff up to maxBackoff.
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// sender pushes one appservice's queue to it, one transaction at a time,
// in queue order. Each appservice has its own sender goroutine, so a slow
// or dead bridge delays only itself.
type sender struct {
	reg     *config.AppService
	db      *storage.DB
	client  *asClient
	log     *slog.Logger
	metrics *metrics
	// keys gives one-time key counts (MSC3202); nil without a keyserver.
	keys KeyCounter
	// queued is signalled when items were queued; retry when the
	// appservice is known to be back (a ping succeeded).
	queued, retry chan struct{}
	// depthAt is when the queue depth metric was last counted.
	depthAt time.Time
	// fenced, with several appservice processes, is told of a queue
	// error (writer.Writer.Fenced: another process took the queues).
	fenced func(error)
}

// depthEvery bounds how often the queue is counted for the metric (a
// count is a scan of the appservice's backlog).
const depthEvery = 10 * time.Second

func newSender(reg *config.AppService, db *storage.DB, client *asClient, keys KeyCounter, log *slog.Logger, m *metrics) *sender {
	return &sender{
		reg: reg, db: db, client: client, metrics: m, keys: keys,
		log:    log.With("appservice", reg.ID),
		queued: make(chan struct{}, 1),
		retry:  make(chan struct{}, 1),
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// run delivers until ctx ends.
func (s *sender) run(ctx context.Context) {
	backoff := time.Duration(0)
	down := false
	for ctx.Err() == nil {
		s.updateDepth(ctx)
		txnID, items, err := s.next(ctx)
		if err != nil {
			if s.fenced != nil {
				s.fenced(err)
			}
			if ctx.Err() == nil {
				s.log.Error("reading the appservice queue", "error", err)
				s.wait(ctx, 5*time.Second, nil)
			}
			continue
		}
		if txnID == 0 { // nothing queued
			s.metrics.setDepth(s.reg.ID, 0)
			s.wait(ctx, 0, s.queued)
			continue
		}
		err = s.send(ctx, txnID, items)
		if err == nil {
			if ackErr := s.db.Ack(ctx, s.reg.ID, txnID); ackErr != nil {
				s.log.Error("acknowledging a delivered transaction; it will be sent again", "txn_id", txnID, "error", ackErr)
				s.wait(ctx, minBackoff, nil)
				continue
			}
			s.metrics.delivered(s.reg.ID, len(items))
			if down {
				s.log.Info("appservice is reachable again", "txn_id", txnID)
				down = false
				s.metrics.setUp(s.reg.ID, true)
			}
			backoff = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.metrics.failed(s.reg.ID)
		backoff = min(max(backoff*2, minBackoff), maxBackoff)
		if !down {
			s.log.Warn("appservice is unreachable; retrying with backoff", "txn_id", txnID, "error", err)
			down = true
			s.metrics.setUp(s.reg.ID, false)
		} else {
			s.log.Debug("appservice still unreachable", "txn_id", txnID, "error", err, "retry_in", backoff)
		}
		s.wait(ctx, backoff, nil)
	}
}

// next is the transaction to (re)send: the one in flight, else a new one.
func (s *sender) next(ctx context.Context) (int64, []storage.Item, error) {
	txnID, items, err := s.db.InFlight(ctx, s.reg.ID)
	if err != nil || txnID != 0 {
		return txnID, items, err
	}
	return s.db.StartTxn(ctx, s.reg.ID, maxTxnItems)
}

// wait sleeps for d (0: forever) or until wake or a retry signal.
func (s *sender) wait(ctx context.Context, d time.Duration, wake chan struct{}) {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
	case <-timer:
	case <-wake:
	case <-s.retry:
	}
}

func (s *sender) updateDepth(ctx context.Context) {
	if time.Since(s.depthAt) < depthEvery {
		return
	}
	s.depthAt = time.Now()
	if n, err := s.db.QueueDepth(ctx, s.reg.ID); err == nil {
		s.metrics.setDepth(s.reg.ID, n)
	}
}

// transactionBody is PUT /_matrix/app/v1/transactions/{txnId}. Ephemeral
// and to-device data go under the stable names and the MSC2409 ones
// bridges still read.
type transactionBody struct {
	Events           []json.RawMessage `json:"events"`
	Ephemeral        []json.RawMessage `json:"ephemeral,omitempty"`
	MSC2409Ephemeral []json.RawMessage `json:"de.sorunome.msc2409.ephemeral,omitempty"`
	ToDevice         []json.RawMessage `json:"to_device,omitempty"`
	MSC2409ToDevice  []json.RawMessage `json:"de.sorunome.msc2409.to_device,omitempty"`
	// MSC3202 (unstable names only, as the proposal defines them).
	DeviceLists      *deviceLists                         `json:"org.matrix.msc3202.device_lists,omitempty"`
	OTKCounts        map[string]map[string]map[string]int `json:"org.matrix.msc3202.device_one_time_keys_count,omitempty"`
	FallbackKeyTypes map[string]map[string][]string       `json:"org.matrix.msc3202.device_unused_fallback_key_types,omitempty"`
}

type deviceLists struct {
	Changed []string `json:"changed"`
	Left    []string `json:"left"`
}

func buildTransaction(items []storage.Item) transactionBody {
	body := transactionBody{Events: []json.RawMessage{}}
	seen := map[string]map[string]bool{storage.KindDeviceList: {}, storage.KindDeviceListLeft: {}}
	for _, it := range items {
		switch it.Kind {
		case storage.KindEvent:
			body.Events = append(body.Events, it.Body)
		case storage.KindEphemeral:
			body.Ephemeral = append(body.Ephemeral, it.Body)
		case storage.KindToDevice:
			body.ToDevice = append(body.ToDevice, it.Body)
		case storage.KindDeviceList, storage.KindDeviceListLeft:
			var user string
			if json.Unmarshal(it.Body, &user) != nil || seen[it.Kind][user] {
				continue
			}
			seen[it.Kind][user] = true
			if body.DeviceLists == nil {
				body.DeviceLists = &deviceLists{Changed: []string{}, Left: []string{}}
			}
			if it.Kind == storage.KindDeviceList {
				body.DeviceLists.Changed = append(body.DeviceLists.Changed, user)
			} else {
				body.DeviceLists.Left = append(body.DeviceLists.Left, user)
			}
		}
	}
	body.MSC2409Ephemeral, body.MSC2409ToDevice = body.Ephemeral, body.ToDevice
	return body
}

func (s *sender) send(ctx context.Context, txnID int64, items []storage.Item) error {
	body := buildTransaction(items)
	if s.reg.MSC3202 && s.keys != nil {
		s.addKeyCounts(ctx, &body)
	}
	res, err := s.client.do(ctx, transactionTimeout, "PUT", "/_matrix/app/v1/transactions/"+strconv.FormatInt(txnID, 10), nil, body)
	if err != nil {
		return err
	}
	if !res.ok() {
		return fmt.Errorf("appservice answered %d: %.200s", res.Status, res.Body)
	}
	return nil
}
