package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// releaseStartupPages unmaps this binary's code and read-only data once
// the server is up. Start-up (package inits, migrations, NATS, every
// component's set-up) touches most of the 50 MB binary, and those file
// pages stay counted in our RSS although a running server never executes
// them again; afterwards only what runs is faulted back in (64 KB at a
// time). The pages stay in the kernel's page cache, now unmapped, so it
// can reclaim them first. Mappings with private (relocated) copies are
// left alone: discarding those would lose the relocation.
//
// A binary the Go linker has just written sits in the page cache in 2 MB
// folios, and any touch maps a whole folio again: run an installed copy
// (cp, install, a package or an image) to see the effect.
func releaseStartupPages() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	type mapping struct{ start, end uint64 }
	var candidates []mapping
	var cur *mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			cur = nil
			if len(fields) == 6 && fields[5] == exe && (fields[1] == "r-xp" || fields[1] == "r--p") {
				lo, hi, _ := strings.Cut(fields[0], "-")
				start, err1 := strconv.ParseUint(lo, 16, 64)
				end, err2 := strconv.ParseUint(hi, 16, 64)
				if err1 == nil && err2 == nil {
					candidates = append(candidates, mapping{start, end})
					cur = &candidates[len(candidates)-1]
				}
			}
			continue
		}
		// A mapping with anonymous (copied-on-write) pages is not a
		// plain view of the file.
		if cur != nil && len(fields) >= 2 && fields[0] == "Anonymous:" && fields[1] != "0" {
			cur.start, cur.end = 0, 0
		}
	}
	if sc.Err() != nil {
		return
	}
	for _, m := range candidates {
		if m.end > m.start {
			_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), syscall.MADV_DONTNEED)
		}
	}
}
