package main

import (
	"fmt"
	"strconv"
	"strings"
)

// commas formats n with thousands separators: 24512 → "24,512".
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// rate formats a per-second rate: whole numbers once they are big enough
// for decimals to be noise.
func rate(v float64) string {
	if v >= 100 {
		return commas(int64(v + 0.5))
	}
	return fmt.Sprintf("%.1f", v)
}

// mib formats a kB count from /proc as MiB.
func mib(kb int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}

// seconds formats a duration in seconds with precision that suits its size.
func seconds(s float64) string {
	if s < 10 {
		return fmt.Sprintf("%.2fs", s)
	}
	return fmt.Sprintf("%.1fs", s)
}

// singular turns a unit name into one of it: "events" → "event",
// "deliveries" → "delivery".
func singular(unit string) string {
	if s, ok := strings.CutSuffix(unit, "ies"); ok {
		return s + "y"
	}
	return strings.TrimSuffix(unit, "s")
}
