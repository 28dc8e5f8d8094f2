package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr)))
}

// run is main without process globals, so tests can drive the whole tool.
// It returns the exit code: 0 ok, 1 run failed, 2 bad usage.
func run(args []string, stdout, stderr io.Writer, tty bool) int {
	opts, sc, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "axon-bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	b := newBench(opts, stdout, stderr, tty)
	if err := checkReachable(ctx, b.c); err != nil {
		fmt.Fprintf(stderr, "axon-bench: cannot reach homeserver at %s: %v\nIs it running, and is --hs right?\n", opts.HS, err)
		return 1
	}
	fmt.Fprintf(stderr, "axon-bench: %s against %s, users %s-*\n", sc.name(), opts.HS, opts.Prefix)
	err = sc.run(ctx, b)
	if n := b.c.rateLimited.Load(); n > 0 {
		fmt.Fprintf(stderr, "\naxon-bench: the server answered 429 M_LIMIT_EXCEEDED %s times in this run (setup included); "+
			"requests were retried after retry_after_ms. Disable rate limiting on the server for meaningful numbers.\n", commas(n))
	}
	switch {
	case errors.Is(err, errRegistrationRefused):
		fmt.Fprintf(stderr, "axon-bench: %v\n\n%s\n", err, registrationHelp)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "axon-bench: %s: %v\n", sc.name(), err)
		return 1
	}
	return 0
}

// checkReachable fails fast with a clear message instead of letting every
// request of a scenario time out.
func checkReachable(ctx context.Context, c *client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.versions(ctx)
}
