package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of the CPU times in /proc/PID/stat. The kernel
// reports them in USER_HZ, which is 100 on every Linux architecture
// regardless of the kernel's own tick rate.
const userHZ = 100

// cpuTimes is a process's accumulated CPU time (all threads) in seconds.
type cpuTimes struct{ user, system float64 }

// readCPU reads utime and stime of pid from /proc/PID/stat.
func readCPU(pid int) (cpuTimes, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return cpuTimes{}, err
	}
	return parseProcStat(string(data))
}

// parseProcStat picks utime and stime (fields 14 and 15) out of a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseProcStat(s string) (cpuTimes, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return cpuTimes{}, fmt.Errorf("/proc stat line without command name")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return cpuTimes{}, fmt.Errorf("/proc stat line has %d fields, want at least 15", len(f)+2)
	}
	var t [2]float64
	for k, field := range f[11:13] {
		n, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("parsing field %d of /proc stat: %w", 14+k, err)
		}
		t[k] = float64(n) / userHZ
	}
	return cpuTimes{user: t[0], system: t[1]}, nil
}

// cpuUse is the server's CPU over one measured phase.
type cpuUse struct {
	UserS   float64 `json:"user_s"`
	SystemS float64 `json:"system_s"`
	// Cores is the average number of cores busy: (user+system) / wall time.
	Cores float64 `json:"cores"`
	// PerUnitUS is (user+system) per counted unit (event, message, sync,
	// user) in microseconds; 0 when the phase counted nothing.
	PerUnitUS float64 `json:"per_unit_us"`
}

// cpuBetween is what the process used from before to after, over a phase
// of wallS seconds that counted ok units.
func cpuBetween(before, after cpuTimes, wallS float64, ok int64) cpuUse {
	u := cpuUse{UserS: after.user - before.user, SystemS: after.system - before.system}
	total := u.UserS + u.SystemS
	if wallS > 0 {
		u.Cores = total / wallS
	}
	if ok > 0 {
		u.PerUnitUS = total / float64(ok) * 1e6
	}
	return u
}
