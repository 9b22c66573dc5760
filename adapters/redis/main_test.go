package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is this package's database number in the test Redis (see internal/testenv).
const redisDB = 1

var testClient *goredis.Client

func TestMain(m *testing.M) {
	redis.LogTo(slog.New(slog.DiscardHandler)) // the outage tests would print a line per dial
	c, err := testenv.Redis(redisDB)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testClient = c
	code := m.Run()
	_ = c.Close()
	os.Exit(code)
}

// emptyRedis flushes this package's database and returns the shared client.
func emptyRedis(t *testing.T) *goredis.Client {
	t.Helper()
	if err := testClient.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return testClient
}

// openClient is a client of its own, as another instance of the app would have.
func openClient(t *testing.T) goredis.UniversalClient {
	t.Helper()
	return openNamedClient(t, "bossraid-test")
}

// openNamedClient names its connections so a test can find them in CLIENT LIST.
func openNamedClient(t *testing.T, name string) goredis.UniversalClient {
	t.Helper()
	c, err := redis.Open(context.Background(), testenv.RedisURLFor(redisDB)+"?client_name="+name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
