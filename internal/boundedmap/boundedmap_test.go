package boundedmap

import "testing"

func TestMapStartsAgainWhenFull(t *testing.T) {
	m := New[string, int](2)
	m.Put("a", 1)
	m.Update("a", func(old int, ok bool) int {
		if !ok || old != 1 {
			t.Errorf("update of a saw %d, %v; want 1, true", old, ok)
		}
		return old + 1
	})
	m.Put("b", 2)
	if v, ok := m.Get("a"); !ok || v != 2 {
		t.Fatalf("a = %d, %v; want 2, true", v, ok)
	}
	// Replacing an entry of a full map keeps the others.
	m.Put("b", 3)
	if _, ok := m.Get("a"); !ok {
		t.Fatal("a was dropped when b was replaced")
	}
	// A new key into a full map empties it first.
	m.Put("c", 4)
	if _, ok := m.Get("a"); ok {
		t.Fatal("a survived a new key into the full map")
	}
	if v, ok := m.Get("c"); !ok || v != 4 {
		t.Fatalf("c = %d, %v; want 4, true", v, ok)
	}
}
