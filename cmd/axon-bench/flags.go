package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// globalOpts are the flags shared by all scenarios.
type globalOpts struct {
	HS           string
	JSON         string
	PID          int
	SharedSecret string
	RegToken     string
	Prefix       string
	Password     string
	Timeout      time.Duration
	Quiet        bool
}

// scenario is one benchmark: its flags and how to run it.
type scenario interface {
	name() string
	summary() string
	bind(fs *flag.FlagSet)
	validate() error
	run(ctx context.Context, b *bench) error
}

// scenarios lists constructors in the order usage and `all` show them.
func scenarios() []scenario {
	return []scenario{
		newRegisterScenario(), newSendScenario(), newSyncLatencyScenario(), newMixedScenario(),
		newInitialSyncScenario(), newHerdScenario(), newBigroomScenario(), &allScenario{},
	}
}

func defaultGlobalOpts() globalOpts {
	return globalOpts{
		HS:       "http://127.0.0.1:8008",
		Password: "axon-bench-Passw0rd!",
		Timeout:  2 * time.Minute,
	}
}

// bindGlobal registers the global flags on fs with g's current values as
// defaults, so they can be given before or after the scenario name.
func bindGlobal(fs *flag.FlagSet, g *globalOpts) {
	fs.StringVar(&g.HS, "hs", g.HS, "homeserver base `URL`")
	fs.StringVar(&g.JSON, "json", g.JSON, "write results as a JSON array to `FILE`")
	fs.IntVar(&g.PID, "pid", g.PID, "server process `PID`: report its peak/current RSS and user+system CPU (per counted unit) for each phase")
	fs.StringVar(&g.SharedSecret, "shared-secret", g.SharedSecret, "register users via /_synapse/admin/v1/register with this `secret`")
	fs.StringVar(&g.RegToken, "registration-token", g.RegToken, "complete m.login.registration_token with this `token`")
	fs.StringVar(&g.Prefix, "prefix", g.Prefix, "username `prefix` (default: random per run, so reruns don't collide)")
	fs.StringVar(&g.Password, "password", g.Password, "password for created users")
	fs.DurationVar(&g.Timeout, "timeout", g.Timeout, "per-request timeout (long-poll syncs get their poll time on top)")
	fs.BoolVar(&g.Quiet, "quiet", g.Quiet, "no live progress line")
}

// localpartRE is the user ID grammar minus what we append.
var localpartRE = regexp.MustCompile(`^[a-z0-9._=/+-]+$`)

func (g *globalOpts) validate() error {
	u, err := url.Parse(g.HS)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--hs %q: want an http:// or https:// URL", g.HS)
	}
	g.HS = strings.TrimRight(g.HS, "/")
	if g.Prefix == "" {
		g.Prefix = "axb" + randomHex(3)
	}
	if !localpartRE.MatchString(g.Prefix) {
		return fmt.Errorf("--prefix %q: only lowercase a-z, 0-9 and ._=-/+ are allowed in Matrix user IDs", g.Prefix)
	}
	if g.Password == "" {
		return errors.New("--password must not be empty")
	}
	if g.Timeout <= 0 {
		return errors.New("--timeout must be positive")
	}
	if g.PID < 0 {
		return errors.New("--pid must be positive")
	}
	return nil
}

// parseArgs parses "[global flags] <scenario> [scenario flags]".
func parseArgs(args []string, stderr io.Writer) (globalOpts, scenario, error) {
	g := defaultGlobalOpts()
	fs := flag.NewFlagSet("axon-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindGlobal(fs, &g)
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return g, nil, err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return g, nil, errors.New("missing scenario")
	}
	name := fs.Arg(0)
	var sc scenario
	for _, s := range scenarios() {
		if s.name() == name {
			sc = s
		}
	}
	if sc == nil {
		return g, nil, fmt.Errorf("unknown scenario %q (run with -help for the list)", name)
	}
	sfs := flag.NewFlagSet("axon-bench "+name, flag.ContinueOnError)
	sfs.SetOutput(stderr)
	sc.bind(sfs)
	bindGlobal(sfs, &g)
	if err := sfs.Parse(fs.Args()[1:]); err != nil {
		return g, nil, err
	}
	if sfs.NArg() > 0 {
		return g, nil, fmt.Errorf("unexpected arguments after %s flags: %q", name, sfs.Args())
	}
	if err := g.validate(); err != nil {
		return g, nil, err
	}
	if err := sc.validate(); err != nil {
		return g, nil, fmt.Errorf("%s: %w", name, err)
	}
	return g, sc, nil
}

func usage(w io.Writer, global *flag.FlagSet) {
	fmt.Fprintln(w, "usage: axon-bench [global flags] <scenario> [scenario flags]")
	fmt.Fprintln(w, "\nglobal flags (also accepted after the scenario):")
	global.PrintDefaults()
	for _, s := range scenarios() {
		fmt.Fprintf(w, "\n%s: %s\n", s.name(), s.summary())
		fs := flag.NewFlagSet(s.name(), flag.ContinueOnError)
		fs.SetOutput(w)
		s.bind(fs)
		fs.PrintDefaults()
	}
}

// secondsFlag is a duration that also accepts a bare number of seconds,
// so both "-t 30" and "-t 30s" work.
type secondsFlag struct{ d *time.Duration }

func (f secondsFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f secondsFlag) Set(s string) error {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		*f.d = time.Duration(secs * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want seconds or a duration like 30s")
	}
	*f.d = d
	return nil
}

// positive checks that every named value is > 0.
func positive(vals map[string]int) error {
	for _, name := range slices.Sorted(maps.Keys(vals)) {
		if vals[name] <= 0 {
			return fmt.Errorf("-%s must be positive", name)
		}
	}
	return nil
}

// sizesFlag is a comma-separated list of positive counts, kept sorted
// ascending without repeats: "2,1000,10000".
type sizesFlag struct{ v *[]int }

func (f sizesFlag) String() string {
	if f.v == nil {
		return ""
	}
	parts := make([]string, len(*f.v))
	for i, n := range *f.v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func (f sizesFlag) Set(s string) error {
	var sizes []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n <= 0 || n > maxRoomSize {
			return fmt.Errorf("want comma-separated counts between 1 and %d", maxRoomSize)
		}
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	*f.v = slices.Compact(sizes)
	return nil
}
