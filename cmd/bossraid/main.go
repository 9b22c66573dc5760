// Command bossraid is the Boss Raid game service: the server and its operator commands.
//
//	bossraid [serve]                 run the server (default)
//	bossraid migrate up|status       apply or list database migrations
//	bossraid admin grant|revoke EMAIL   give or take the admin role
//	bossraid ranking rebuild         rebuild the Redis ranking from Postgres
//	bossraid loadgen [flags]         drive a running server and report latencies
//	bossraid chaos [flags]           the chaos soak: own Postgres, Redis and two instances, broken on purpose
//	bossraid healthcheck             exit 0 when the local server answers /healthz
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bossraid:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `usage:
  bossraid [serve]                    run the server
  bossraid migrate up|status          apply or list database migrations
  bossraid admin grant|revoke EMAIL   give or take the admin role
  bossraid ranking rebuild            rebuild the Redis ranking from Postgres
  bossraid loadgen [flags]            drive a running server (bossraid loadgen -h)
  bossraid chaos [flags]              the chaos soak of docs/RELIABILITY.md (bossraid chaos -h)
  bossraid healthcheck                check the local server's /healthz
configuration comes from environment variables; see README.md`

// run is the whole program; tests drive it with their own args, environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout)
	case "admin":
		return admin(ctx, args, getenv, stdout)
	case "ranking":
		return ranking(ctx, args, getenv, stdout, stderr)
	case "loadgen":
		return loadgen(ctx, args, getenv, stdout, stderr)
	case "chaos":
		return chaosSoak(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, getenv)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("%w: unknown command %q\n%s", errUsage, cmd, usage)
}
