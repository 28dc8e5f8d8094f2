package syncapi

import (
	"hash/maphash"
	"iter"
)

// cowMap is a map whose versions share storage: it is split into shards
// by key hash, and a new version copies only the shards a change touches.
// A room's state is cached as one version per state change, so a member
// joining a 10,000-member room costs a shard, not the whole state.
// Versions are read-only once built (edit makes the next one).
type cowMap[K comparable, V any] struct {
	shards []map[K]V // len is a power of two; nil shards are empty
	n      int
}

var cowSeed = maphash.MakeSeed()

// cowShardSize is the mean shard size aimed for: a change copies about
// this many entries, plus the slice of shard pointers (n/cowShardSize).
const cowShardSize = 16

func shardsFor(n int) int {
	s := 1
	for s*cowShardSize*2 < n {
		s *= 2
	}
	return s
}

func (m cowMap[K, V]) shard(k K) int {
	return int(maphash.Comparable(cowSeed, k) & uint64(len(m.shards)-1))
}

func (m cowMap[K, V]) get(k K) (V, bool) {
	if len(m.shards) == 0 {
		var zero V
		return zero, false
	}
	v, ok := m.shards[m.shard(k)][k]
	return v, ok
}

func (m cowMap[K, V]) len() int { return m.n }

// all yields every entry, in no particular order.
func (m cowMap[K, V]) all() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		for _, s := range m.shards {
			for k, v := range s {
				if !yield(k, v) {
					return
				}
			}
		}
	}
}

// cowEdit builds the next version of a cowMap; the version it started
// from is unchanged.
type cowEdit[K comparable, V any] struct {
	m     cowMap[K, V]
	owned []bool // shards already copied for this version
}

func (m cowMap[K, V]) edit() *cowEdit[K, V] {
	if len(m.shards) == 0 {
		m.shards = make([]map[K]V, 1)
	}
	next := cowMap[K, V]{shards: append([]map[K]V(nil), m.shards...), n: m.n}
	return &cowEdit[K, V]{m: next, owned: make([]bool, len(next.shards))}
}

func (e *cowEdit[K, V]) own(k K) map[K]V {
	i := e.m.shard(k)
	if !e.owned[i] {
		cp := make(map[K]V, len(e.m.shards[i])+1)
		for k, v := range e.m.shards[i] {
			cp[k] = v
		}
		e.m.shards[i], e.owned[i] = cp, true
	}
	return e.m.shards[i]
}

func (e *cowEdit[K, V]) set(k K, v V) {
	s := e.own(k)
	if _, ok := s[k]; !ok {
		e.m.n++
	}
	s[k] = v
}

func (e *cowEdit[K, V]) del(k K) {
	if _, ok := e.m.get(k); !ok {
		return
	}
	delete(e.own(k), k)
	e.m.n--
}

// done returns the new version, with more shards if it outgrew them (a
// rebuild, O(n), once per doubling).
func (e *cowEdit[K, V]) done() cowMap[K, V] {
	if want := shardsFor(e.m.n); want > len(e.m.shards) {
		return buildCowMap(e.m.n, e.m.all())
	}
	return e.m
}

// buildCowMap makes a version holding entries (n of them, a hint).
func buildCowMap[K comparable, V any](n int, entries iter.Seq2[K, V]) cowMap[K, V] {
	m := cowMap[K, V]{shards: make([]map[K]V, shardsFor(n))}
	for k, v := range entries {
		i := m.shard(k)
		if m.shards[i] == nil {
			m.shards[i] = make(map[K]V, cowShardSize)
		}
		if _, ok := m.shards[i][k]; !ok {
			m.n++
		}
		m.shards[i][k] = v
	}
	return m
}
