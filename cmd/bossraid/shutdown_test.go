package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/testenv"
)

// SIGTERM while requests are in flight: every one of them completes as if nothing happened,
// new connections are refused at once, and the process exits 0. The requests are held in
// flight by stalling Postgres behind a proxy, so the signal surely lands mid-request.
func TestSIGTERMLetsRequestsInFlightFinish(t *testing.T) {
	db, err := testenv.NewDatabase("cmd_shutdown")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Drop() })
	flushRedis(t)
	pg := startProxy(t, hostOf(t, db.URL))

	bin := buildBinary(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = os.Environ()
	for k, v := range serverEnv(withHost(t, db.URL, pg.Addr()), testenv.RedisURLFor(redisDB)) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Its 21 sign-ups come from one address; none may be answered by the throttle alone.
	cmd.Env = append(cmd.Env, "SIGNUP_LIMIT=1000")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := watchReader(stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	exited := make(chan struct{})
	go func() { exitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	base := "http://" + logs.addr(t)
	waitReadyz(t, base, http.StatusOK, "ready")

	// Players to sign in and to look up; sign-up and sign-in hash with Argon2id, ~20 ms each.
	const password = "Passw0rd!"
	for i := range 5 {
		send(t, base, "POST", "/api/users/signup", "", fmt.Sprintf(`{"email":"p%d@example.com","nickname":"player%d","password":%q}`, i, i, password), http.StatusCreated)
	}
	var tokens struct{ Access string }
	if err := json.Unmarshal(send(t, base, "POST", "/api/users/signin", "", fmt.Sprintf(`{"email":"p0@example.com","password":%q}`, password), http.StatusOK), &tokens); err != nil {
		t.Fatal(err)
	}

	// 50 requests that each need Postgres, held there by the stalled proxy.
	type request struct {
		method, path, token, body string
		want                      int
	}
	var requests []request
	for i := range 50 {
		switch i % 3 {
		case 0:
			requests = append(requests, request{"POST", "/api/users/signin", "",
				fmt.Sprintf(`{"email":"p%d@example.com","password":%q}`, 1+i%4, password), http.StatusOK})
		case 1:
			requests = append(requests, request{"GET", fmt.Sprintf("/api/users/search/player%d", i%5), tokens.Access, "", http.StatusOK})
		default:
			requests = append(requests, request{"POST", "/api/users/signup", "",
				fmt.Sprintf(`{"email":"new%d@example.com","nickname":"new%d","password":%q}`, i, i, password), http.StatusCreated})
		}
	}
	pg.Stall()
	stalled := true
	defer func() {
		if stalled {
			pg.Release()
		}
	}()
	var completed atomic.Int64
	results := make([]string, len(requests))
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}}
	for i, r := range requests {
		wg.Go(func() {
			defer completed.Add(1)
			req, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
			if err != nil {
				results[i] = err.Error()
				return
			}
			if r.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if r.token != "" {
				req.Header.Set("Authorization", "Bearer "+r.token)
			}
			resp, err := client.Do(req)
			if err != nil {
				results[i] = fmt.Sprintf("%s %s: %v", r.method, r.path, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != r.want {
				results[i] = fmt.Sprintf("%s %s: %d %s, want %d", r.method, r.path, resp.StatusCode, body, r.want)
			}
		})
	}

	// Every request is either answered or inside a handler (the scrape itself is one more).
	var inFlight int
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(10 * time.Millisecond) {
		inFlight = int(scrapeGauge(t, base, "bossraid_http_requests_in_flight")) - 1
		if inFlight+int(completed.Load()) >= len(requests) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests reached the server:\n%s", inFlight, len(requests), logs.dump())
		}
	}
	if inFlight != len(requests) {
		t.Fatalf("%d requests were answered while Postgres was stalled; the test needs all %d in flight", len(requests)-inFlight, len(requests))
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, regexp.MustCompile(`msg="shutting down"`))
	// The server stopped listening: a new client is refused (or, had it slipped in, told
	// the instance is not ready).
	if resp, err := http.Get(base + "/readyz"); err == nil {
		_ = resp.Body.Close()
		t.Logf("/readyz while draining: %d", resp.StatusCode)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/readyz while draining: %d, want 503 or a refused connection", resp.StatusCode)
		}
	} else {
		t.Logf("/readyz while draining: %v", err)
	}
	if n := completed.Load(); n != 0 {
		t.Fatalf("%d requests ended before Postgres came back", n)
	}
	pg.Release()
	stalled = false
	released := time.Now()

	wg.Wait()
	t.Logf("%d requests in flight at SIGTERM finished %v after Postgres came back", len(requests), time.Since(released).Round(time.Millisecond))
	for _, r := range results {
		if r != "" {
			t.Errorf("in flight at SIGTERM: %s", r)
		}
	}
	select {
	case <-exited:
		if exitErr != nil {
			t.Errorf("the server exited with %v, want 0:\n%s", exitErr, logs.dump())
		}
	case <-time.After(waitLimit):
		t.Fatalf("the server did not exit after draining:\n%s", logs.dump())
	}
	logs.waitFor(t, regexp.MustCompile(`msg=stopped`))
	if strings.Contains(logs.dump(), "did not finish in time") {
		t.Errorf("the drain timed out:\n%s", logs.dump())
	}
}

// buildBinary compiles bossraid into the test's temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bossraid")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func send(t *testing.T, base, method, path, token, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	return b
}

// scrapeGauge reads one unlabelled sample from /metrics.
func scrapeGauge(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
