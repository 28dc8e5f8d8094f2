package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// memSample is the server's memory as the kernel reports it in
// /proc/PID/status (kB).
type memSample struct {
	PeakRSSKB int64 `json:"peak_rss_kb"` // VmHWM
	RSSKB     int64 `json:"rss_kb"`      // VmRSS
	// PeakSince says what the peak covers: "phase" when the high-water mark
	// could be reset before the measured phase, else "process start".
	PeakSince string `json:"peak_since"`
}

// resetPeakRSS resets VmHWM so the next sample covers one phase only. It
// needs the same permissions as ptrace; failure just widens the window.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

func readMem(pid int) (memSample, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memSample{}, err
	}
	defer f.Close()
	return parseProcStatus(f)
}

func parseProcStatus(r io.Reader) (memSample, error) {
	var m memSample
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("parsing %s: %w", key, err)
		}
		if key == "VmHWM" {
			m.PeakRSSKB = kb
		} else {
			m.RSSKB = kb
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found < 2 {
		return m, fmt.Errorf("VmHWM/VmRSS not found (kernel thread or exited process?)")
	}
	return m, nil
}
