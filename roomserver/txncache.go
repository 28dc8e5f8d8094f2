package roomserver

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"sync"
)

// txnHash is a client transaction's key hashed to 128 bits: the cache
// holds it instead of the four strings, which cost ~300 bytes an entry
// with the LRU's list and kept request buffers alive. An accidental
// collision is out of reach (2^-128 a pair), and a deliberate one would
// need a second preimage of SHA-256's first half for a key naming
// another user.
type txnHash [16]byte

func hashTxn(k txnKey) txnHash {
	h := sha256.New()
	var n [4]byte
	for _, s := range [...]string{k.user, k.device, k.room, k.txn} {
		// Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var sum [sha256.Size]byte
	var out txnHash
	copy(out[:], h.Sum(sum[:0]))
	return out
}

// txnCache remembers the event ID of the last size client transactions
// that committed, oldest out first: a repeat comes seconds after the
// first send (a lost response), and older ones are caught when the write
// claims the transaction. Its memory grows with use up to size entries
// (~100 bytes each) and is not reserved up front.
type txnCache struct {
	mu    sync.Mutex
	size  int
	ring  []txnEntry // insertion order; once full, next is the oldest
	next  int
	index map[txnHash]int32 // position in ring
}

type txnEntry struct {
	key     txnHash
	eventID string
}

func newTxnCache(size int) *txnCache {
	return &txnCache{size: size, index: make(map[txnHash]int32)}
}

func (c *txnCache) get(k txnKey) (string, bool) {
	h := hashTxn(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[h]; ok {
		return c.ring[i].eventID, true
	}
	return "", false
}

func (c *txnCache) put(k txnKey, eventID string) {
	h := hashTxn(k)
	// A copy: the ID may point into a whole event's JSON.
	eventID = strings.Clone(eventID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[h]; ok {
		c.ring[i].eventID = eventID
		return
	}
	if len(c.ring) < c.size {
		c.index[h] = int32(len(c.ring))
		c.ring = append(c.ring, txnEntry{h, eventID})
		return
	}
	delete(c.index, c.ring[c.next].key)
	c.ring[c.next] = txnEntry{h, eventID}
	c.index[h] = int32(c.next)
	c.next = (c.next + 1) % c.size
}
