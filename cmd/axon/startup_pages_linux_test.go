package main

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// exeRSSKB sums the resident kB of this binary's mappings.
func exeRSSKB(t *testing.T) int64 {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	inExe := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") {
			inExe = len(fields) == 6 && fields[5] == exe
			continue
		}
		if inExe && len(fields) >= 2 && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kb
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// TestReleaseStartupPages: the binary's pages leave our RSS, and the
// process keeps working (code and read-only data fault back in).
func TestReleaseStartupPages(t *testing.T) {
	before := exeRSSKB(t)
	releaseStartupPages()
	after := exeRSSKB(t)
	t.Logf("binary RSS %d kB -> %d kB", before, after)
	if after >= before {
		t.Fatalf("binary RSS %d kB before, %d kB after releasing", before, after)
	}
	if !regexp.MustCompile(`^a+b$`).MatchString("aaab") || strconv.Itoa(42) != "42" {
		t.Fatal("code after the release misbehaves")
	}
}
