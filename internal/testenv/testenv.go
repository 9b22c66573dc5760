// Package testenv gives tests real Postgres and Redis: a fresh migrated database per test
// package and a Redis database of its own. When they cannot be reached the tests fail,
// never skip: `make test` starts them (scripts/services.sh).
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	_ "github.com/lib/pq" // Postgres driver
	"github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/postgres"
)

// AdminDatabaseURL is where test databases are created: TEST_DATABASE_URL, else DATABASE_URL,
// else the machine's Postgres.
func AdminDatabaseURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is TEST_REDIS_URL, else REDIS_URL, else the machine's Redis.
func RedisURL() string {
	for _, k := range []string{"TEST_REDIS_URL", "REDIS_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "redis://127.0.0.1:6379/0"
}

// Database is a throwaway migrated database.
type Database struct {
	URL  string
	DB   *sql.DB
	name string
}

// NewDatabase creates and migrates a fresh database named after prefix. Call Drop when done
// (from TestMain, after m.Run).
func NewDatabase(prefix string) (*Database, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adminURL := AdminDatabaseURL()
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("testenv: Postgres at %s is not reachable (run `make test`, which starts it): %w", redact(adminURL), err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("bossraid_test_%s_%s", sanitize(prefix), hex.EncodeToString(b[:]))
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("testenv: create database: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	d := &Database{URL: u.String(), name: name}
	d.DB, err = sql.Open("postgres", d.URL)
	if err != nil {
		return nil, err
	}
	if _, err := postgres.Migrate(ctx, d.DB); err != nil {
		_ = d.Drop()
		return nil, err
	}
	return d, nil
}

// Drop closes and deletes the database.
func (d *Database) Drop() error {
	_ = d.DB.Close()
	admin, err := sql.Open("postgres", AdminDatabaseURL())
	if err != nil {
		return err
	}
	defer admin.Close()
	// Bounded: a backend stuck elsewhere on the server must not hang the whole test run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)")
	return err
}

// Redis returns a client on database number db of the test Redis, emptied first. Each test
// package uses its own number so packages running at once do not see each other's keys:
// 1 adapters/redis, 2 adapters/http/api, 3 adapters/http/web, 4 cmd/bossraid (two processes),
// 5 internal/testenv, 7 internal/loadgen, 8 adapters/http/apidocs, 9 adapters/http/admin,
// 10 cmd/bossraid (readiness), 11 adapters/http/metrics, 12 adapters/http/session;
// 6 adapters/redis (a second database); 0 is left to `make run`, 13–15 are free.
func Redis(db int) (*redis.Client, error) {
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		return nil, err
	}
	opts.DB = db
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("testenv: Redis at %s is not reachable (run `make test`, which starts it): %w", opts.Addr, err)
	}
	if err := c.FlushDB(ctx).Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// RedisURLFor returns the test Redis URL pointing at database db.
func RedisURLFor(db int) string {
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		return RedisURL()
	}
	return fmt.Sprintf("redis://%s/%d", opts.Addr, db)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(s))
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
