package stream

import "context"

// Heads known locally. Read-your-writes has every /sync wait until the
// consumers applied what the log held when it arrived, and asking
// JetStream for a stream's last sequence is a request to the server (on
// the path of a /sync that arrives after a send, and CPU beside it).
// The embedded server does not listen: every message reaches its streams
// through this process's Bus, and a publisher answers its caller only
// after the log acknowledged the message. So after one read of the
// stream's last sequence (what earlier runs left), the newest message
// any caller was answered for is the highest acknowledgement since.
// A stream created again after it was lost (restore) or deleted here
// renumbers from 1; from then on it is asked again every time.

// Head is the sequence of the newest acknowledged message in the stream:
// at least that of every message whose publisher was answered before the
// call (LastSeq's guarantee, answered from memory where it can be).
func (s *Stream) Head(ctx context.Context) (uint64, error) {
	if head, ok := s.KnownHead(); ok {
		return head, nil
	}
	last, err := s.LastSeq(ctx)
	if err != nil || s.bus.server == nil {
		return last, err
	}
	p := s.bus.board(s.name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.headOff {
		return last, nil
	}
	p.headBase, p.headKnown = max(p.headBase, last), true
	return max(p.headBase, p.headAcked), nil
}

// KnownHead is Head when it can be answered from memory, without asking
// the server (false: call Head).
func (s *Stream) KnownHead() (uint64, bool) {
	if s.bus.server == nil {
		return 0, false // other processes publish too
	}
	p := s.bus.board(s.name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.headKnown || p.headOff {
		return 0, false
	}
	return max(p.headBase, p.headAcked), true
}

// acknowledged records an acknowledged sequence for Head (p.mu held).
func (p *progressBoard) acknowledged(seq uint64) {
	p.headAcked = max(p.headAcked, seq)
}

// renumbered stops Head answering from memory: the stream was created
// again, and acknowledgements from before and after can arrive in any
// order.
func (p *progressBoard) renumbered() {
	p.mu.Lock()
	p.headOff = true
	p.mu.Unlock()
}
