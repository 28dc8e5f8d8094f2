package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, args ...string) (globalOpts, scenario) {
	t.Helper()
	g, sc, err := parseArgs(args, io.Discard)
	if err != nil {
		t.Fatalf("parseArgs(%q): %v", args, err)
	}
	return g, sc
}

func TestParseGlobalAndScenarioFlags(t *testing.T) {
	g, sc := mustParse(t, "--hs", "http://127.0.0.1:9999/", "--json", "out.json", "--pid", "42",
		"send", "-c", "7", "-t", "2.5", "--rooms", "one", "--quiet")
	if g.HS != "http://127.0.0.1:9999" || g.JSON != "out.json" || g.PID != 42 || !g.Quiet {
		t.Errorf("globals = %+v", g)
	}
	s := sc.(*sendScenario)
	if s.c != 7 || s.dur != 2500*time.Millisecond || s.rooms != "one" {
		t.Errorf("send = %+v", s)
	}
}

func TestParseDefaults(t *testing.T) {
	g, sc := mustParse(t, "herd", "-h", "5")
	if g.HS != "http://127.0.0.1:8008" || !strings.HasPrefix(g.Prefix, "axb") || len(g.Prefix) != 9 {
		t.Errorf("globals = %+v", g)
	}
	h := sc.(*herdScenario)
	if h.h != 5 || h.members != 500 || h.events != 1000 {
		t.Errorf("herd = %+v", h)
	}
	g2, _ := mustParse(t, "herd")
	if g2.Prefix == g.Prefix {
		t.Error("default prefix should be random per run")
	}
}

func TestParseScenarioFlags(t *testing.T) {
	_, sc := mustParse(t, "register", "-n", "10", "-c", "3")
	if r := sc.(*registerScenario); r.n != 10 || r.c != 3 {
		t.Errorf("register = %+v", r)
	}
	_, sc = mustParse(t, "sync-latency", "-m", "9", "-wait", "2s")
	if s := sc.(*syncLatencyScenario); s.m != 9 || s.wait != 2*time.Second {
		t.Errorf("sync-latency = %+v", s)
	}
	_, sc = mustParse(t, "initial-sync", "-r", "4", "-k", "6", "--repeat", "2")
	if s := sc.(*initialSyncScenario); s.r != 4 || s.k != 6 || s.repeat != 2 {
		t.Errorf("initial-sync = %+v", s)
	}
	_, sc = mustParse(t, "herd", "-h", "3", "--members", "8", "--events", "12")
	if s := sc.(*herdScenario); s.h != 3 || s.members != 8 || s.events != 12 {
		t.Errorf("herd = %+v", s)
	}
	_, sc = mustParse(t, "bigroom", "--members", "10000,2,1000,2", "--online", "5", "--rate", "20")
	if s := sc.(*bigroomScenario); !slices.Equal(s.sizes, []int{2, 1000, 10000}) || s.online != 5 || s.rate != 20 {
		t.Errorf("bigroom = %+v", s)
	}
	if _, sc = mustParse(t, "bigroom", "--online", "0"); sc.(*bigroomScenario).online != 0 {
		t.Error("bigroom --online 0 not kept")
	}
	mustParse(t, "all")
}

func TestParseErrors(t *testing.T) {
	bad := [][]string{
		{},
		{"nope"},
		{"send", "--rooms", "some"},
		{"send", "-t", "soon"},
		{"register", "-n", "0"},
		{"bigroom", "--members", "2,0"},
		{"bigroom", "--online", "-1"},
		{"bigroom", "--members", "1,x"},
		{"bigroom", "--members", "1000000"},
		{"register", "extra"},
		{"--hs", "127.0.0.1:8008", "register"},
		{"--prefix", "Bad Prefix", "register"},
		{"--timeout", "0s", "register"},
	}
	for _, args := range bad {
		if _, _, err := parseArgs(args, io.Discard); err == nil {
			t.Errorf("parseArgs(%q) succeeded, want an error", args)
		}
	}
}
