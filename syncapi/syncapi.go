package syncapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/axon-hs/axon/internal/httputil"
	"github.com/axon-hs/axon/internal/setup"
	"github.com/axon-hs/axon/internal/stream"
	"github.com/axon-hs/axon/syncapi/notifier"
	"github.com/axon-hs/axon/syncapi/storage"
)

// SyncAPI consumes the streams into its own tables and serves /sync.
type SyncAPI struct {
	base  *setup.Base
	log   *slog.Logger
	db    *storage.DB
	users Users
	rooms Rooms
	notif *notifier.Notifier
	cache *stateCache
	// lazy remembers lazy-loaded member events sent to each device.
	lazy *lazySent
	push *pushCache
	// ignores caches m.ignored_user_list per user (ignore.go).
	ignores *ignoreCache
	typing  *typingState
	// presence tracks syncs and activity for the presence timers.
	presence *presenceTracker
	// initialSlots bounds concurrent initial syncs, the expensive kind.
	initialSlots chan struct{}
	// polls caps each user's concurrent long-polls.
	polls pollSlots
	// Per-user limits on typing and to-device requests.
	typingLimit, toDeviceLimit *httputil.Limiter
	streams                    map[string]*stream.Stream
	sliding                    *slidingConns
	progress                   *progress
	heads                      *headReads     // stream head reads shared by concurrent requests (sync_heads.go)
	shared                     sharedReads    // reads shared by the /syncs built at one position (sync_shared.go)
	filters                    *parsedFilters // stored filters, parsed (sync_filtercache.go)
	// keys serves the E2EE fields of /sync (e2ee_devicelists.go); nil: none.
	keys Keys
	// fed backfills /messages from other servers (messages_backfill.go); nil when
	// federation is off.
	fed       Federation
	backfills backfillTries
	// pusher is woken when notifications commit or a user reads
	// (push_source.go); nil: no push delivery.
	pusher PushWaker
	// erased is the set of users deactivated with erase (consumer_erasure.go).
	erased erasedUsers

	// replica runs the writer lease and wakes among several syncapi
	// processes (replicas.go); nil for one syncapi.
	replica *replica

	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   []<-chan struct{}
	once   sync.Once
}

// New opens syncapi storage, starts its stream consumers and registers its
// routes on base.Client. keys and fed may be nil (no E2EE fields, no
// backfill from other servers); so may pusher (no push delivery).
func New(ctx context.Context, base *setup.Base, users Users, rooms Rooms, keys Keys, fed Federation, pusher PushWaker) (*SyncAPI, error) {
	sdb, err := base.OpenDB(ctx, "syncapi", storage.Migrations)
	if err != nil {
		return nil, err
	}
	db := storage.New(sdb)
	pos, err := db.MaxPositions(ctx)
	if err != nil {
		return nil, fmt.Errorf("syncapi positions: %w", err)
	}
	joined, err := db.AllJoinedMembers(ctx)
	if err != nil {
		return nil, fmt.Errorf("syncapi members: %w", err)
	}
	log := base.Log
	if log == nil {
		log = slog.Default()
	}
	s := &SyncAPI{
		base: base, log: log.With("component", "syncapi"), db: db, users: users, rooms: rooms, fed: fed, pusher: pusher,
		cache:         newStateCache(db),
		filters:       newParsedFilters(),
		lazy:          newLazySent(),
		push:          newPushCache(),
		ignores:       newIgnoreCache(),
		typing:        newTypingState(),
		presence:      newPresenceTracker(),
		initialSlots:  make(chan struct{}, 8),
		streams:       map[string]*stream.Stream{},
		typingLimit:   httputil.NewRateLimiter(base.Cfg.RateLimits, base.Cfg.RateLimits.Typing),
		toDeviceLimit: httputil.NewRateLimiter(base.Cfg.RateLimits, base.Cfg.RateLimits.ToDevice),
		sliding:       newSlidingConns(),
		progress:      newProgress(),
	}
	s.heads = &headReads{read: s.readHeads, known: s.knownHeads}
	if err := s.loadErasedUsers(ctx); err != nil {
		return nil, fmt.Errorf("syncapi erased users: %w", err)
	}
	pos.Typing = s.typing.Position()
	s.notif = notifier.New(pos, joined)
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, name := range []string{stream.RoomEvents, stream.AccountData, stream.Typing, stream.Receipts, stream.Presence, stream.SendToDevice} {
		st, err := base.Stream(ctx, name)
		if err != nil {
			cancel()
			return nil, err
		}
		s.streams[name] = st
	}
	if keys != nil {
		if err := s.startDeviceLists(ctx, keys); err != nil {
			cancel()
			return nil, fmt.Errorf("syncapi device lists: %w", err)
		}
	}
	if base.Cfg.Presence.Enabled {
		if err := s.loadPresenceStates(ctx); err != nil {
			cancel()
			return nil, fmt.Errorf("syncapi presence: %w", err)
		}
	}
	if base.Cfg.Partitioning.Instance != "" {
		// One of several replicas: the consumers run where the writer
		// lease is (replicas.go).
		if err := s.startReplica(ctx); err != nil {
			cancel()
			return nil, err
		}
	} else {
		done, err := s.startWriting(ctx, runCtx)
		if err != nil {
			cancel()
			return nil, err
		}
		s.done = append(s.done, done...)
	}
	// Typing is held in memory: every process follows it.
	if err := s.consumeTyping(ctx, runCtx); err != nil {
		s.Close()
		return nil, err
	}
	s.wg.Add(2)
	go s.typing.expireLoop(runCtx, &s.wg, s.onTypingExpired)
	go s.maintenanceLoop(runCtx, &s.wg)
	if base.Client != nil {
		s.registerRoutes()
	}
	return s, nil
}

// startWriting starts the consumers that write syncapi's tables from the
// streams, each from the position stored with what it applied; they stop
// when runCtx ends (the returned channels close).
func (s *SyncAPI) startWriting(ctx, runCtx context.Context) ([]<-chan struct{}, error) {
	s.db.StartUnreadLog() // rows since this process last wrote may be another writer's
	var dones []<-chan struct{}
	seqs := map[string]uint64{}
	for _, name := range []string{stream.RoomEvents, stream.AccountData} {
		seq, err := s.db.ConsumerSeq(ctx, name)
		if err != nil {
			return dones, fmt.Errorf("syncapi %s position: %w", name, err)
		}
		s.progress.set(name, seq)
		seqs[name] = seq
	}
	// Room events come in bursts (a busy room): several per transaction.
	done, err := s.streams[stream.RoomEvents].ConsumeBatch(runCtx, "syncapi", seqs[stream.RoomEvents], stream.BatchOptions{MaxMessages: roomEventBatch, BusyWait: roomEventBusyWait, DeadLetter: s.deadLetterer(stream.RoomEvents)},
		func(ctx context.Context, msgs []stream.Message) error {
			if err := s.onRoomEventBatch(ctx, msgs); err != nil {
				return err
			}
			s.progress.set(stream.RoomEvents, msgs[len(msgs)-1].Seq)
			return nil
		})
	if err != nil {
		return dones, err
	}
	dones = append(dones, done)
	done, err = s.streams[stream.AccountData].Consume(runCtx, "syncapi", seqs[stream.AccountData], s.deadLetterer(stream.AccountData), func(ctx context.Context, msg stream.Message) error {
		if err := s.onAccountDataMsg(ctx, msg); err != nil {
			return err
		}
		s.progress.set(stream.AccountData, msg.Seq)
		return nil
	})
	if err != nil {
		return dones, err
	}
	dones = append(dones, done)
	more, err := s.startEphemeralConsumers(ctx, runCtx)
	dones = append(dones, more...)
	if err != nil {
		return dones, err
	}
	if s.keys != nil {
		done, err := s.consumeDeviceLists(ctx, runCtx)
		if err != nil {
			return dones, fmt.Errorf("syncapi device lists: %w", err)
		}
		dones = append(dones, done)
	}
	return dones, nil
}

// roomEventBatch is the most room_events messages applied per transaction.
const roomEventBatch = 64

// roomEventBusyWait: under load, a batch of room events waits up to this
// long for more (stream.BatchOptions.BusyWait). Each batch is one SQLite
// commit of ~20 WAL pages; into 50 rooms batches held ~5 events (with
// the wait, ~22 at 2 ms).
const roomEventBusyWait = 2 * time.Millisecond

// Close stops the consumers and wakes long-polls so they return.
func (s *SyncAPI) Close() {
	s.once.Do(func() {
		if s.replica != nil {
			s.replica.close()
		}
		s.notif.Close()
		s.cancel()
		for _, d := range s.done {
			<-d
		}
		s.wg.Wait()
	})
}

// isLocal reports whether userID belongs to this server.
func (s *SyncAPI) isLocal(userID string) bool {
	name := s.base.Cfg.ServerName // (no concatenation: this runs per member per event)
	return len(userID) > len(name) && strings.HasSuffix(userID, name) && userID[len(userID)-len(name)-1] == ':'
}

// publishEDU writes a local ephemeral change to its stream for the
// federation sender. It is already applied locally, so a failure is
// logged rather than failing the client's request.
func (s *SyncAPI) publishEDU(ctx context.Context, name string, v any, headers map[string]string) {
	st := s.streams[name]
	if st == nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	if _, err := st.Publish(ctx, data, headers); err != nil {
		s.log.Warn("publish ephemeral update", "stream", name, "error", err)
	}
}
