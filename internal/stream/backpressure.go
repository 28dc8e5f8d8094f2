package stream

import (
	"context"
	"sync"
)

// Back-pressure. Consumers in this process report how far they applied
// each stream; a producer that accepts writes faster than they apply
// them (the syncapi under sustained writes) can wait, before answering
// its caller, until they are within a bound of what was published
// (WaitForConsumers). Consumers in other processes (polylith) are not
// seen; there the bound does not apply.

// progressBoard tracks one stream's newest published sequence and what
// each local consumer has applied.
type progressBoard struct {
	mu        sync.Mutex
	published uint64
	resets    uint64 // times a publisher here created the stream again (reset.go)
	// Head's memory (heads.go).
	headKnown, headOff  bool
	headBase, headAcked uint64
	applied             map[*consumerSlot]uint64
	changed             chan struct{}
}

type consumerSlot struct{ board *progressBoard }

func (b *Bus) board(stream string) *progressBoard {
	b.boardsMu.Lock()
	defer b.boardsMu.Unlock()
	if b.boards == nil {
		b.boards = map[string]*progressBoard{}
	}
	p := b.boards[stream]
	if p == nil {
		p = &progressBoard{applied: map[*consumerSlot]uint64{}, changed: make(chan struct{})}
		b.boards[stream] = p
	}
	return p
}

func (p *progressBoard) join(seq uint64) *consumerSlot {
	c := &consumerSlot{board: p}
	p.mu.Lock()
	p.applied[c] = seq
	p.mu.Unlock()
	return c
}

// set records seq as applied.
func (c *consumerSlot) set(seq uint64) {
	p := c.board
	p.mu.Lock()
	p.applied[c] = seq
	p.wake()
	p.mu.Unlock()
}

func (c *consumerSlot) leave() {
	p := c.board
	p.mu.Lock()
	delete(p.applied, c)
	p.wake()
	p.mu.Unlock()
}

// publishedUpTo records the newest acknowledgement (not the highest: a
// reset numbers the stream from 1 again).
func (p *progressBoard) publishedUpTo(seq uint64) {
	p.mu.Lock()
	p.published = seq
	p.acknowledged(seq)
	p.mu.Unlock()
}

func (p *progressBoard) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// behind is how far the slowest local consumer is behind what was
// published (0 after a reset renumbered the stream).
func (p *progressBoard) behind() uint64 {
	var lag uint64
	for _, seq := range p.applied {
		if seq < p.published {
			lag = max(lag, p.published-seq)
		}
	}
	return lag
}

// WaitForConsumers waits until every consumer of the stream in this
// process is at most maxLag messages behind what was published through
// it, or ctx ends (the error then says so; nothing is lost either way).
func (s *Stream) WaitForConsumers(ctx context.Context, maxLag uint64) error {
	p := s.bus.board(s.name)
	for {
		p.mu.Lock()
		lag, ch := p.behind(), p.changed
		p.mu.Unlock()
		if lag <= maxLag {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
