package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestCArenasCapped counts glibc's arenas in fresh processes (arenas,
// once made, stay) after sixteen threads allocate at once: within the cap
// by default, beyond it when MALLOC_ARENA_MAX lifts it (which also shows
// the count can see arenas).
func TestCArenasCapped(t *testing.T) {
	if cArenas() < 0 {
		t.Skip("not glibc")
	}
	limit := max(2, runtime.NumCPU()/2)
	arenas := func(env ...string) int {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCArenasChild$")
		cmd.Env = append(append(os.Environ(), "AXON_ARENAS_CHILD=1"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, "arenas="); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("child printed %q", line)
				}
				return n
			}
		}
		t.Fatalf("child printed no arena count:\n%s", out)
		return 0
	}
	if n := arenas("MALLOC_ARENA_MAX=" + strconv.Itoa(limit+8)); n <= limit {
		t.Fatalf("with MALLOC_ARENA_MAX=%d only %d arenas: the count cannot tell", limit+8, n)
	}
	if n := arenas(); n > limit {
		t.Fatalf("%d arenas, want at most %d", n, limit)
	}
}

func TestCArenasChild(t *testing.T) {
	if os.Getenv("AXON_ARENAS_CHILD") != "1" {
		t.Skip("run by TestCArenasCapped")
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() { defer wg.Done(); mallocAndHold(100) }()
	}
	wg.Wait()
	os.Stdout.WriteString("arenas=" + strconv.Itoa(cArenas()) + "\n")
}
