package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Setup helpers: everything a scenario needs before its measured phase.
// Any error here is fatal for the scenario.

// setupStep is the progress line of one setup step:
// "setup <tag>: <what> done/total (Ns)".
type setupStep struct {
	done atomic.Int64
	p    *progress
}

func (b *bench) setupStep(tag, what string, total int) *setupStep {
	s := &setupStep{}
	s.p = b.showProgress(func(el time.Duration) string {
		return fmt.Sprintf("setup %s: %s %s/%s (%.0fs)", tag, what, commas(s.done.Load()), commas(int64(total)), el.Seconds())
	})
	return s
}

func (s *setupStep) stop() { s.p.Stop() }

// localpart names user i of a scenario: <prefix>-<tag>-<i>.
func (b *bench) localpart(tag string, i int) string {
	return fmt.Sprintf("%s-%s-%d", b.opts.Prefix, tag, i)
}

// register creates one user with the method chosen by the global flags.
func (b *bench) register(ctx context.Context, localpart string) (*account, response, error) {
	if b.opts.SharedSecret != "" {
		return b.c.registerSharedSecret(ctx, b.opts.SharedSecret, localpart, b.opts.Password)
	}
	return b.c.registerUIA(ctx, localpart, b.opts.Password, b.opts.RegToken)
}

// newUsers registers n users on c workers. A user left over from an earlier
// run with the same --prefix is logged in instead, so fixed prefixes work.
func (b *bench) newUsers(ctx context.Context, tag string, n, c int) ([]*account, error) {
	users := make([]*account, n)
	step := b.setupStep(tag, "registering users", n)
	defer step.stop()
	err := forEach(ctx, n, c, func(ctx context.Context, i int) error {
		lp := b.localpart(tag, i)
		acc, _, err := b.register(ctx, lp)
		if ae := asAPIError(err); ae != nil && ae.ErrCode == "M_USER_IN_USE" {
			acc, err = b.c.login(ctx, lp, b.opts.Password)
		}
		if err != nil {
			return fmt.Errorf("registering %s: %w", lp, err)
		}
		users[i] = acc
		step.done.Add(1)
		return nil
	})
	return users, err
}

// createRooms has creators[i] create one room each, in parallel.
func (b *bench) createRooms(ctx context.Context, tag string, creators []*account, c int) ([]string, error) {
	rooms := make([]string, len(creators))
	step := b.setupStep(tag, "creating rooms", len(rooms))
	defer step.stop()
	err := forEach(ctx, len(creators), c, func(ctx context.Context, i int) error {
		id, err := b.c.createRoom(ctx, creators[i], fmt.Sprintf("axon-bench %s %d", tag, i))
		rooms[i] = id
		step.done.Add(1)
		return err
	})
	return rooms, err
}

// joinAll makes every user join roomID.
func (b *bench) joinAll(ctx context.Context, tag string, users []*account, roomID string, c int) error {
	step := b.setupStep(tag, "joining", len(users))
	defer step.stop()
	return forEach(ctx, len(users), c, func(ctx context.Context, i int) error {
		err := b.c.joinRoom(ctx, users[i], roomID)
		step.done.Add(1)
		return err
	})
}

// fill sends count messages into each room, senders taking turns, c
// requests in flight.
func (b *bench) fill(ctx context.Context, tag string, senders []*account, rooms []string, count, c int) error {
	total := len(rooms) * count
	step := b.setupStep(tag, "sending messages", total)
	defer step.stop()
	return forEach(ctx, total, c, func(ctx context.Context, i int) error {
		room := rooms[i%len(rooms)]
		_, err := b.c.sendText(ctx, senders[i%len(senders)], room, b.nextTxn(), fmt.Sprintf("filler message %d", i/len(rooms)))
		if err != nil {
			return fmt.Errorf("filling %s: %w", room, err)
		}
		step.done.Add(1)
		return nil
	})
}

// awaitRooms polls /sync until acc sees at least want joined rooms, so a
// measurement doesn't start while the server is still catching up with setup.
func (b *bench) awaitRooms(ctx context.Context, acc *account, want int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fid, err := b.c.uploadFilter(ctx, acc, lightFilter(nil, 1))
	if err != nil {
		return err
	}
	for {
		var sr syncResponse
		_, serr := b.c.sync(ctx, acc, syncParams{filter: fid}, &sr)
		if serr == nil && len(sr.Rooms.Join) >= want {
			return nil
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for %s to see %d joined rooms (last sync saw %d, error %v): %w",
				acc.UserID, want, len(sr.Rooms.Join), serr, err)
		}
	}
}

// awaitMembers polls /sync until acc's view of roomID counts at least want
// joined members (m.joined_member_count of the room summary), so a phase
// doesn't start while the server is still absorbing the joins. A server
// that sends no count is waited for only until acc sees the room.
func (b *bench) awaitMembers(ctx context.Context, acc *account, roomID string, want int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	fid, err := b.c.uploadFilter(ctx, acc, lightFilter([]string{roomID}, 1))
	if err != nil {
		return err
	}
	for {
		var sr syncResponse
		_, serr := b.c.sync(ctx, acc, syncParams{filter: fid}, &sr)
		room, seen := sr.Rooms.Join[roomID]
		got := room.Summary.JoinedMembers
		if serr == nil && seen && (got == nil || *got >= want) {
			return nil
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			count := "none"
			if got != nil {
				count = commas(int64(*got))
			}
			return fmt.Errorf("waiting for %s to count %d members in %s (last sync: room seen %v, count %s, error %v): %w",
				acc.UserID, want, roomID, seen, count, serr, err)
		}
	}
}

// registrationMethod names how users are created, for the results.
func (b *bench) registrationMethod() string {
	if b.opts.SharedSecret != "" {
		return "shared-secret"
	}
	return "uia"
}
