package notifier

import "github.com/axon-hs/axon/syncapi/types"

// Resync takes positions and the joined members of rooms read from the
// database in place of what the wakes told this notifier, then wakes
// every waiter: changes committed without their wake (syncapi's
// replicas_resync.go: a writer that stopped between commit and wake) are
// announced this way. Positions never go back; this process's typing
// position is kept; rooms not in joined are left as they are.
func (n *Notifier) Resync(pos types.StreamToken, joined map[string][]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	typing := n.pos.Typing
	n.pos = n.pos.Max(pos)
	n.pos.Typing = typing
	for room, users := range joined {
		set := make(map[string]struct{}, len(users))
		for _, u := range users {
			set[u] = struct{}{}
		}
		n.rooms[room] = set
	}
	for u := range n.waiters {
		n.wakeLocked(u)
	}
}
