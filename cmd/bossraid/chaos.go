package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bossraid/bossraid/internal/chaos"
)

const chaosUsage = `usage:
  bossraid chaos [flags]   the chaos soak of docs/RELIABILITY.md: starts its own Postgres, Redis and
                           two instances of this binary on loopback ports, plays against them while
                           killing, freezing and restarting each, and exits 1 on any violation`

// chaosSoak is `bossraid chaos`. It needs Postgres's programs (initdb, pg_ctl) and redis-server on
// this machine; it touches no server it did not start.
func chaosSoak(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bossraid chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := 10 * time.Minute
	if raw := getenv("CHAOS_DURATION"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return fmt.Errorf("%w: CHAOS_DURATION=%q: want a positive duration like 10m", errUsage, raw)
		}
		def = d
	}
	var o chaos.Options
	fs.DurationVar(&o.Duration, "duration", def, "how long faults are injected under load ($CHAOS_DURATION sets the default)")
	fs.IntVar(&o.Players, "players", 16, "API players")
	fs.IntVar(&o.WebPlayers, "web-players", 4, "web players with a session")
	fs.IntVar(&o.Streams, "streams", 3, "live-lobby watchers")
	fs.DurationVar(&o.FaultEvery, "fault-every", 3*time.Second, "mean pause between faults")
	fs.Uint64Var(&o.Seed, "seed", 0, "random seed of the faults and the players (0: from the clock; the report prints it)")
	quiet := fs.Bool("q", false, "no progress lines, only the report")
	fs.Usage = func() {
		fmt.Fprintln(stderr, chaosUsage+"\n\nflags:")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("chaos: cannot find this program to run its instances: %w", err)
	}
	o.Bin, o.Log = bin, stderr
	if *quiet {
		o.Log = io.Discard
	}
	rep, err := chaos.Run(ctx, o)
	if rep != nil {
		rep.Print(stdout)
	}
	if err != nil {
		return err
	}
	return rep.Err()
}
