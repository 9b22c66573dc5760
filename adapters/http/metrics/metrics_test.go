package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/http/metrics"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is this package's Redis database (see testenv.Redis; 7–9 are taken by other packages).
const redisDB = 11

func TestMain(m *testing.M) { testenv.Main(m, "http_metrics") }

// newStack is a whole instance with m wired in the way cmd/bossraid wires it.
func newStack(t *testing.T, m *metrics.Metrics, opts testenv.StackOptions) *testenv.Stack {
	t.Helper()
	opts.RedisDB = redisDB
	opts.Metrics = m
	opts.Observe = m.Observe
	opts.FrontDoors = func(*testenv.Stack) []httpserver.FrontDoor { return []httpserver.FrontDoor{m} }
	st := testenv.NewStack(t, opts)
	if err := m.CollectDB(st.DB, "bossraid"); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCountersMoveWhenPlayersPlay(t *testing.T) {
	m := metrics.New()
	st := newStack(t, m, testenv.StackOptions{})
	ctx := context.Background()

	first := signUpAndIn(t, st.URL, "first@example.com", "first")
	second := signUpAndIn(t, st.URL, "second@example.com", "second")

	status, body := call(t, st.URL, http.MethodPost, "/api/raids/enter", first, `{"level":1}`)
	if status != http.StatusCreated {
		t.Fatalf("enter: %d %s", status, body)
	}
	var entered struct{ Result struct{ ID int64 } }
	if err := json.Unmarshal(body, &entered); err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, st.URL, http.MethodPost, "/api/raids/enter", second, `{"level":0}`); status != http.StatusConflict {
		t.Fatalf("second enter: want 409, got %d %s", status, body)
	}
	endPath := fmt.Sprintf("/api/raids/%d/end", entered.Result.ID)
	if status, body := call(t, st.URL, http.MethodPatch, endPath, first, `{}`); status != http.StatusOK {
		t.Fatalf("end: %d %s", status, body)
	}
	if status, _ := call(t, st.URL, http.MethodGet, "/api/raids/status", "", ""); status != http.StatusUnauthorized {
		t.Fatalf("status without a token: want 401, got %d", status)
	}

	before := scrape(t, st.URL)
	if _, err := st.App.Ranking.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, st.URL)

	for name, want := range map[string]float64{
		"bossraid_raids_entered_total":   1,
		"bossraid_raids_cleared_total":   1,
		"bossraid_raid_enter_busy_total": 1,
		"bossraid_raids_failed_total":    0,
	} {
		if got := value(t, fams, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	rebuildsBefore := value(t, before, "bossraid_ranking_rebuilds_total", nil)
	rebuilds := value(t, fams, "bossraid_ranking_rebuilds_total", nil)
	if rebuilds != rebuildsBefore+1 {
		t.Errorf("ranking rebuilds went from %v to %v, want one more", rebuildsBefore, rebuilds)
	}
	if got := value(t, fams, "bossraid_ranking_rebuild_duration_seconds", nil); got != rebuilds {
		t.Errorf("rebuild durations observed %v times, want %v", got, rebuilds)
	}
	if got := value(t, fams, "bossraid_ranking_rebuild_players", nil); got != 1 {
		t.Errorf("players ranked at the last rebuild = %v, want 1", got)
	}

	// Requests are counted by route template (ids never become labels), method and status.
	for _, c := range []struct {
		route, method, code string
		want                float64
	}{
		{"/api/users/signup", "POST", "201", 2},
		{"/api/users/signin", "POST", "200", 2},
		{"/api/raids/enter", "POST", "201", 1},
		{"/api/raids/enter", "POST", "409", 1},
		{"/api/raids/{id:[0-9]+}/end", "PATCH", "200", 1},
		{"/api/raids/status", "GET", "401", 1},
	} {
		labels := map[string]string{"route": c.route, "method": c.method, "code": c.code}
		if got := value(t, fams, "bossraid_http_request_duration_seconds", labels); got != c.want {
			t.Errorf("requests %v = %v, want %v", labels, got, c.want)
		}
	}
	for _, mf := range fams["bossraid_http_request_duration_seconds"].GetMetric() {
		for _, l := range mf.GetLabel() {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), fmt.Sprint(entered.Result.ID)) {
				t.Errorf("a raid id leaked into a route label: %q", l.GetValue())
			}
		}
	}
	// The scrape that produced fams was itself in flight.
	if got := value(t, fams, "bossraid_http_requests_in_flight", nil); got != 1 {
		t.Errorf("requests in flight during a lone scrape = %v, want 1", got)
	}

	for _, name := range []string{
		"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "go_sql_open_connections", "go_sql_in_use_connections",
		"go_sql_wait_count_total", "go_sql_max_open_connections", "promhttp_metric_handler_errors_total",
	} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if got := fams["go_sql_open_connections"].GetMetric()[0].GetLabel(); len(got) != 1 || got[0].GetValue() != "bossraid" {
		t.Errorf("database pool labels = %v, want db_name=bossraid", got)
	}
}

func TestSweptRaidsAreCountedAsFailed(t *testing.T) {
	m := metrics.New()
	boss := raids.BossData{TimeLimit: time.Second, Levels: []raids.Level{{Level: 0, Score: 20}}}
	st := newStack(t, m, testenv.StackOptions{BossData: &boss, SweepInterval: 50 * time.Millisecond})
	token := signUpAndIn(t, st.URL, "slow@example.com", "slow")
	if status, body := call(t, st.URL, http.MethodPost, "/api/raids/enter", token, `{"level":0}`); status != http.StatusCreated {
		t.Fatalf("enter: %d %s", status, body)
	}
	// Wait for the sweeper to record the raid as failed after its one-second limit.
	deadline := time.Now().Add(30 * time.Second)
	for value(t, scrape(t, st.URL), "bossraid_raids_failed_total", nil) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper never counted the expired raid as failed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := value(t, scrape(t, st.URL), "bossraid_raids_failed_total", nil); got != 1 {
		t.Errorf("raids failed = %v, want 1", got)
	}
}

func TestScrapeIsPrometheusText(t *testing.T) {
	m := metrics.New()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the text format", ct)
	}
	fams := parse(t, resp.Body)
	for _, name := range []string{"bossraid_raids_entered_total", "bossraid_http_requests_in_flight", "go_goroutines"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("a fresh registry has no %s", name)
		}
	}
	// Two instances in one process keep separate counts.
	other := metrics.New()
	other.RaidEntered()
	if got := value(t, gather(t, m), "bossraid_raids_entered_total", nil); got != 0 {
		t.Errorf("a second instance's count leaked into the first: %v", got)
	}
}

func TestObserveRecordsStatusAndKeepsStreamsFlushing(t *testing.T) {
	m := metrics.New()
	var flushErr error
	var isFlusher bool
	stream := m.Observe("/live", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, isFlusher = w.(http.Flusher)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: hello\n\n")
		flushErr = http.NewResponseController(w).Flush()
	}))
	rec := httptest.NewRecorder()
	stream.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/live", nil))
	if flushErr != nil || !isFlusher || !rec.Flushed {
		t.Errorf("flushing through Observe: err %v, Flusher %v, flushed %v", flushErr, isFlusher, rec.Flushed)
	}

	teapot := m.Observe("/tea", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.WriteHeader(http.StatusOK) // ignored, as net/http ignores it
	}))
	teapot.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/tea", nil))

	silent := m.Observe("/silent", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	silent.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/silent", nil))

	fams := gather(t, m)
	for _, c := range []map[string]string{
		{"route": "/live", "method": "GET", "code": "200"},
		{"route": "/tea", "method": "POST", "code": "418"},
		{"route": "/silent", "method": "GET", "code": "200"},
	} {
		if got := value(t, fams, "bossraid_http_request_duration_seconds", c); got != 1 {
			t.Errorf("requests %v = %v, want 1", c, got)
		}
	}
	if got := value(t, fams, "bossraid_http_requests_in_flight", nil); got != 0 {
		t.Errorf("requests in flight after they ended = %v, want 0", got)
	}

	panicky := m.Observe("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	func() {
		defer func() { _ = recover() }()
		panicky.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/boom", nil))
	}()
	fams = gather(t, m)
	if got := value(t, fams, "bossraid_http_request_duration_seconds", map[string]string{"route": "/boom", "method": "GET", "code": "500"}); got != 1 {
		t.Errorf("a panicking request counted %v times as 500, want 1", got)
	}
	if got := value(t, fams, "bossraid_http_requests_in_flight", nil); got != 0 {
		t.Errorf("requests in flight after a panic = %v, want 0", got)
	}
}

// signUpAndIn registers a player and returns an access token.
func signUpAndIn(t *testing.T, base, email, nickname string) string {
	t.Helper()
	const password = "Passw0rd!"
	body := fmt.Sprintf(`{"email":%q,"nickname":%q,"password":%q}`, email, nickname, password)
	if status, b := call(t, base, http.MethodPost, "/api/users/signup", "", body); status != http.StatusCreated {
		t.Fatalf("signup %s: %d %s", nickname, status, b)
	}
	status, b := call(t, base, http.MethodPost, "/api/users/signin", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	if status != http.StatusOK {
		t.Fatalf("signin %s: %d %s", nickname, status, b)
	}
	var tokens struct{ Access string }
	if err := json.Unmarshal(b, &tokens); err != nil {
		t.Fatal(err)
	}
	return tokens.Access
}

func call(t *testing.T, base, method, path, token, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, r)
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
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + metrics.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	return parse(t, resp.Body)
}

func parse(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("/metrics is not in the Prometheus text format: %v", err)
	}
	return fams
}

// gather reads the registry through the text format, as a scraper would.
func gather(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	got, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, mf := range got {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	return parse(t, &buf)
}

// value is a counter's or gauge's value, or a histogram's sample count, summed over the series
// whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	var sum float64
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func TestQueueFiguresAreReported(t *testing.T) {
	m := metrics.New()
	st := newStack(t, m, testenv.StackOptions{QueueTurn: 200 * time.Millisecond})
	inside := signUpAndIn(t, st.URL, "inside@example.com", "inside")
	waiting := signUpAndIn(t, st.URL, "waiting@example.com", "waiting")
	late := signUpAndIn(t, st.URL, "late@example.com", "late")
	status, body := call(t, st.URL, http.MethodPost, "/api/raids/enter", inside, `{"level":1}`)
	if status != http.StatusCreated {
		t.Fatalf("enter: %d %s", status, body)
	}
	var entered struct{ Result struct{ ID int64 } }
	if err := json.Unmarshal(body, &entered); err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{waiting, late} {
		if status, body := call(t, st.URL, http.MethodPost, "/api/raids/queue", token, ""); status != http.StatusCreated {
			t.Fatalf("join: %d %s", status, body)
		}
	}
	call(t, st.URL, http.MethodGet, "/api/raids/status", waiting, "")
	fams := scrape(t, st.URL)
	if got := value(t, fams, "bossraid_queue_length", nil); got != 2 {
		t.Errorf("queue length %v, want 2", got)
	}
	// The raid is cleared: waiting's turn lapses (nobody enters), late takes the next.
	if status, body := call(t, st.URL, http.MethodPatch, fmt.Sprintf("/api/raids/%d/end", entered.Result.ID), inside, `{}`); status != http.StatusOK {
		t.Fatalf("end: %d %s", status, body)
	}
	var until time.Time
	if err := st.DB.QueryRow(`SELECT end_time + interval '200 milliseconds' FROM raids WHERE id = $1`, entered.Result.ID).Scan(&until); err != nil {
		t.Fatal(err)
	}
	for {
		var reached bool
		if err := st.DB.QueryRow(`SELECT clock_timestamp() >= $1`, until).Scan(&reached); err != nil {
			t.Fatal(err)
		}
		if reached {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, body := call(t, st.URL, http.MethodPost, "/api/raids/enter", late, `{"level":0}`); status != http.StatusCreated {
		t.Fatalf("the next in line enters: %d %s", status, body)
	}
	call(t, st.URL, http.MethodGet, "/api/raids/status", late, "")
	fams = scrape(t, st.URL)
	for name, want := range map[string]float64{
		"bossraid_queue_length": 0, "bossraid_queue_turns_taken": 1, "bossraid_queue_turns_lapsed": 1,
	} {
		if got := value(t, fams, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}
