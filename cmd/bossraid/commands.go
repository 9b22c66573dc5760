package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/users"
)

// commandDeps reads the configuration and opens what an operator command needs.
func commandDeps(ctx context.Context, getenv func(string) string, needRedis bool) (*deps, error) {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, io.Discard)
	return connect(ctx, cfg, log, needRedis)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "status") {
		return fmt.Errorf("%w: bossraid migrate up|status", errUsage)
	}
	// Migrations may rebuild indexes of big tables: give them time.
	long := func(k string) string {
		if k == "DB_TIMEOUT" {
			return "1h"
		}
		return getenv(k)
	}
	d, err := commandDeps(ctx, long, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if args[0] == "up" {
		applied, err := postgres.Migrate(ctx, d.db)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "database schema is up to date")
		}
		for _, v := range applied {
			fmt.Fprintf(stdout, "applied migration %05d\n", v)
		}
		return nil
	}
	states, err := postgres.MigrationStatus(ctx, d.db)
	if err != nil {
		return err
	}
	pending := 0
	for _, s := range states {
		state := "applied"
		if !s.Applied {
			state, pending = "pending", pending+1
		}
		fmt.Fprintf(stdout, "%05d  %-8s %s\n", s.Version, state, s.Name)
	}
	if pending > 0 {
		fmt.Fprintf(stdout, "%d pending: run `bossraid migrate up`\n", pending)
	}
	return nil
}

func admin(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 2 || (args[0] != "grant" && args[0] != "revoke") {
		return fmt.Errorf("%w: bossraid admin grant|revoke EMAIL", errUsage)
	}
	d, err := commandDeps(ctx, getenv, false)
	if err != nil {
		return err
	}
	defer d.Close()
	role := users.RoleAdmin
	if args[0] == "revoke" {
		role = users.RolePlayer
	}
	u, err := postgres.NewUsers(d.db).SetRole(ctx, users.NormalizeEmail(args[1]), role)
	if errors.Is(err, users.ErrNotFound) {
		return fmt.Errorf("no player is registered with the email %q", args[1])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s) is now %s\n", u.Nickname, u.Email, u.Role)
	return nil
}

func ranking(ctx context.Context, args []string, getenv func(string) string, stdout, _ io.Writer) error {
	if len(args) != 1 || args[0] != "rebuild" {
		return fmt.Errorf("%w: bossraid ranking rebuild", errUsage)
	}
	d, err := commandDeps(ctx, getenv, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := redis.Ping(ctx, d.redis); err != nil {
		return fmt.Errorf("cannot reach Redis (REDIS_URL): %w", err)
	}
	start := time.Now()
	n, err := redis.NewLeaderboard(d.redis).Rebuild(ctx, postgres.NewTotals(d.db))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ranking rebuilt: %d ranked players in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// healthcheck lets a container probe the server without curl in the image.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.HTTPAddr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	return nil
}
