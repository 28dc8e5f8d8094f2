package roomserver

import (
	"fmt"
	"testing"
)

func TestTxnCacheKeepsTheLastSize(t *testing.T) {
	c := newTxnCache(3)
	key := func(i int) txnKey { return txnKey{"@u:hs", "DEV", "!r:hs", fmt.Sprint("t", i)} }
	for i := range 5 {
		c.put(key(i), fmt.Sprint("$e", i))
	}
	for i := range 5 {
		id, ok := c.get(key(i))
		if want := i >= 2; ok != want {
			t.Fatalf("txn %d cached = %v, want %v", i, ok, want)
		}
		if ok && id != fmt.Sprint("$e", i) {
			t.Fatalf("txn %d: event %q", i, id)
		}
	}
	// Put again replaces the ID and does not take a second slot.
	c.put(key(4), "$again")
	c.put(key(5), "$e5")
	if id, _ := c.get(key(4)); id != "$again" {
		t.Fatalf("replaced: %q", id)
	}
	if _, ok := c.get(key(3)); !ok {
		t.Fatal("a re-put evicted an extra entry")
	}
	if len(c.index) != 3 || len(c.ring) != 3 {
		t.Fatalf("index %d, ring %d entries", len(c.index), len(c.ring))
	}
}

// The four fields are hashed apart: moving bytes from one to the next,
// or a transaction of another device, user or room, is another key.
func TestTxnCacheKeysDoNotRunTogether(t *testing.T) {
	c := newTxnCache(10)
	c.put(txnKey{"@a:hs", "D", "!r:hs", "t1"}, "$x")
	for _, k := range []txnKey{
		{"@a:h", "sD", "!r:hs", "t1"},
		{"@a:hs", "D!", "r:hs", "t1"},
		{"@a:hs", "D", "!r:hst", "1"},
		{"@b:hs", "D", "!r:hs", "t1"},
		{"@a:hs", "E", "!r:hs", "t1"},
		{"@a:hs", "D", "!s:hs", "t1"},
	} {
		if _, ok := c.get(k); ok {
			t.Fatalf("%+v matched another transaction", k)
		}
	}
	if id, ok := c.get(txnKey{"@a:hs", "D", "!r:hs", "t1"}); !ok || id != "$x" {
		t.Fatalf("own key: %q %v", id, ok)
	}
}
