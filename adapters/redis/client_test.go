package redis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// Nothing listens on port 1: every adapter must say "unavailable" at once, not hang.
func TestUnreachableRedisIsUnavailableQuickly(t *testing.T) {
	checkUnavailable(t, "redis://127.0.0.1:1/0")
}

// A Redis that takes connections and never answers (stopped, overloaded, cut off) must cost
// a bounded wait, not one per go-redis retry.
func TestSilentRedisIsUnavailableQuickly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range held {
			_ = conn.Close()
		}
	})
	checkUnavailable(t, "redis://"+ln.Addr().String()+"/0")
}

func checkUnavailable(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	c, err := redis.Open(ctx, url)
	if c == nil || !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("Open: %v, %v; want a client and ErrUnavailable", c, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	checkQuick(t, "Open", start)
	lb, th, ev := redis.NewLeaderboard(c), redis.NewThrottle(c), redis.NewEvents(c)
	calls := map[string]func() error{
		"Top": func() error { _, err := lb.Top(ctx, raids.TopSize); return err },
		"StandingOf": func() error {
			_, err := lb.StandingOf(ctx, 1)
			return err
		},
		"SetTotal": func() error { return lb.SetTotal(ctx, 1, 5) },
		"Rebuild": func() error {
			_, err := lb.Rebuild(ctx, portstest.Totals{})
			return err
		},
		"Count": func() error {
			_, _, err := th.Count(ctx, "k")
			return err
		},
		"Reserve": func() error {
			_, _, err := th.Reserve(ctx, "k", 10, time.Minute)
			return err
		},
		"Release": func() error { return th.Release(ctx, "k") },
		"Reset":   func() error { return th.Reset(ctx, "k") },
		"Publish": func() error { return ev.Publish(ctx, ports.Event{Kind: ports.EventRaid}) },
		"Subscribe": func() error {
			_, err := ev.Subscribe(ctx)
			return err
		},
		"Ping": func() error { return redis.Ping(ctx, c) },
	}
	// All at once, as requests arrive on a server; each must still give up in time.
	var wg sync.WaitGroup
	for name, call := range calls {
		wg.Go(func() {
			start := time.Now()
			err := call()
			if !errors.Is(err, ports.ErrUnavailable) {
				t.Errorf("%s: got %v, want ErrUnavailable", name, err)
			}
			t.Logf("%s: %v after %v", name, err, time.Since(start).Round(time.Millisecond))
			checkQuick(t, name, start)
		})
	}
	wg.Wait()
}

func checkQuick(t *testing.T, what string, start time.Time) {
	t.Helper()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("%s took %v, want under 2s", what, took)
	}
}

func TestOpenRefusesABadURL(t *testing.T) {
	_, err := redis.Open(context.Background(), "mysql://nope")
	if err == nil || errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("Open of a bad URL: %v; want an error that is not ErrUnavailable", err)
	}
}

func TestOnlyOutagesAreUnavailable(t *testing.T) {
	ctx := context.Background()
	wrongType := emptyRedis(t).HSet(ctx, "h", "f", "v").Err()
	if wrongType == nil {
		wrongType = testClient.ZAdd(ctx, "h", goredis.Z{Score: 1, Member: "m"}).Err()
	}
	for _, c := range []struct {
		err         error
		unavailable bool
	}{
		{goredis.Nil, false},
		{context.Canceled, false},
		{wrongType, false},
		{context.DeadlineExceeded, true},
		{io.EOF, true},
		{goredis.ErrClosed, true},
		{goredis.ErrPoolTimeout, true},
		{fmt.Errorf("read: %w", &timeoutError{}), true},
	} {
		got := redis.MapErr(c.err)
		if errors.Is(got, ports.ErrUnavailable) != c.unavailable || !errors.Is(got, c.err) {
			t.Errorf("MapErr(%v) = %v; unavailable should be %v", c.err, got, c.unavailable)
		}
	}
	if redis.MapErr(nil) != nil {
		t.Error("MapErr(nil) is not nil")
	}
}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

// ParseURL tells the three topologies apart and keeps every address.
func TestParseURLModes(t *testing.T) {
	for _, c := range []struct {
		url    string
		mode   redis.Mode
		addrs  []string
		master string
		db     int
	}{
		{"redis://127.0.0.1:6379/3", redis.Single, []string{"127.0.0.1:6379"}, "", 3},
		{"redis://s1:26379/2?master_name=bossraid&addr=s2:26379&addr=s3:26380", redis.Sentinel,
			[]string{"s1:26379", "s2:26379", "s3:26380"}, "bossraid", 2},
		{"redis://h1:7000?cluster=true&addr=h2:7001&addr=h3:7002", redis.Cluster,
			[]string{"h1:7000", "h2:7001", "h3:7002"}, "", 0},
		{"rediss://u:p@cfg.example:6379/0?cluster=true", redis.Cluster, []string{"cfg.example:6379"}, "", 0},
	} {
		got, err := redis.ParseURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got.Mode != c.mode || !slices.Equal(got.Addrs, c.addrs) || got.MasterName != c.master || got.DB != c.db {
			t.Errorf("%s: %v %v %q db %d; want %v %v %q db %d", c.url, got.Mode, got.Addrs, got.MasterName, got.DB, c.mode, c.addrs, c.master, c.db)
		}
		if s := got.String(); strings.Contains(s, ":p@") {
			t.Errorf("%s: String() shows the password: %s", c.url, s)
		}
	}
}
