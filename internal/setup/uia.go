package setup

import "github.com/axon-hs/axon/internal/uia"

// UIASessions is where UIA sessions live: this process's memory for the
// monolith (nil), or, when components run in several processes (so
// clientapis may sit side by side behind a load balancer), the NATS
// key-value bucket <prefix>_uia_sessions, so a flow started on one
// process continues on another.
func (b *Base) UIASessions() uia.Store {
	if len(b.Cfg.Components) == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.uia == nil {
		b.uia = uia.KVStore(b.Bus.LazyKeyValue("uia_sessions", uia.DefaultTTL).Bucket)
	}
	return b.uia
}
