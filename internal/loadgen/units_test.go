package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	check := func(v uint64) {
		i := bucketOf(v)
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if i >= histBuckets {
			t.Fatalf("value %d: bucket %d beyond %d", v, i, histBuckets)
		}
		if hi-lo > v/subCount+1 {
			t.Fatalf("value %d: bucket [%d, %d] wider than 1/%d", v, lo, hi, subCount)
		}
	}
	for v := range uint64(5000) {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		check(r.Uint64() >> r.IntN(64))
	}
	check(1<<63 - 1)
	// Buckets follow each other without gaps.
	for i := 1; i < histBuckets; i++ {
		_, prevHi := bucketBounds(i - 1)
		lo, _ := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, prevHi)
		}
	}
}

func TestQuantilesAgreeWithSortedSamples(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewPCG(3, 4))
	samples := make([]time.Duration, 50000)
	for i := range samples {
		// Log-normal-ish latencies from 50 µs to seconds.
		d := time.Duration(50_000 * (1 + r.ExpFloat64()*r.ExpFloat64()*20))
		samples[i] = d
		h.Record(d)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := samples[int(q*float64(len(samples))+0.5)-1]
		got := h.Quantile(q)
		if got < exact || got > exact+exact/subCount+1 {
			t.Errorf("p%v = %v, exact %v: want within 1/%d above", q*100, got, exact, subCount)
		}
	}
	if h.Max() != samples[len(samples)-1] {
		t.Errorf("max %v, want %v", h.Max(), samples[len(samples)-1])
	}
	if h.Count() != uint64(len(samples)) {
		t.Errorf("count %d", h.Count())
	}
	var m Histogram
	m.Merge(&h)
	m.Merge(&h)
	if m.Count() != 2*h.Count() || m.Quantile(0.5) != h.Quantile(0.5) || m.Max() != h.Max() {
		t.Errorf("merge: count %d p50 %v max %v", m.Count(), m.Quantile(0.5), m.Max())
	}
	var empty Histogram
	if empty.Quantile(0.99) != 0 || empty.Mean() != 0 {
		t.Error("empty histogram should report zeros")
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("status=60, ranking=30,enter_end=8,signin=1,signup=1,healthz=0")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != "status=60,ranking=30,enter_end=8,signin=1,signup=1" {
		t.Errorf("String() = %q", got)
	}
	if m.Has(ActHealthz) {
		t.Error("a zero weight should leave the action out")
	}
	counts := map[Action]int{}
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		counts[m.Pick(r)]++
	}
	if c := counts[ActStatus]; c < 59000 || c > 61000 {
		t.Errorf("status picked %d times in 100000, want about 60000", c)
	}
	if c := counts[ActSignUp]; c < 800 || c > 1200 {
		t.Errorf("signup picked %d times in 100000, want about 1000", c)
	}
	tokens, creds := m.Needs()
	if !tokens || !creds {
		t.Errorf("Needs() = %v, %v", tokens, creds)
	}
	if m, _ := ParseMix("healthz"); m.String() != "healthz=1" {
		t.Errorf("a bare name weighs 1, got %s", m)
	}
	for _, bad := range []string{"", "status=0", "nope=1", "status=x", "status=-1", "status=1,status=2", "status=99999999"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

func TestCheckTargetKeepsLoadOnThisMachine(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://localhost:8080/", "http://[::1]:9000", "http://127.1.2.3:80", "https://LOCALHOST:8443"} {
		if _, err := CheckTarget(ok, false); err != nil {
			t.Errorf("CheckTarget(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "http://example.com", "http://0.0.0.0:8080", "http://127.0.0.1.nip.io",
		"ftp://127.0.0.1", "127.0.0.1:8080", "http://127.0.0.1:8080/api", "http://u:p@127.0.0.1:8080", "http://127.0.0.1:8080?x=1"} {
		if _, err := CheckTarget(bad, false); err == nil {
			t.Errorf("CheckTarget(%q) accepted", bad)
		}
	}
	if _, err := CheckTarget("http://10.0.0.1:8080", true); err != nil {
		t.Errorf("-allow-remote should allow a remote host: %v", err)
	}
}

func TestRaidPlanIsConsistent(t *testing.T) {
	boss := raids.DefaultBossData()
	for _, tc := range []struct{ players, raids int }{{100, 1000}, {1000, 300}, {7, 7}, {50, 0}} {
		p := newRaidPlan(tc.players, tc.raids, boss, 42, 0.7)
		totals := p.totals()
		sum := make([]int64, tc.players+1)
		cleared := make([]bool, tc.players+1)
		var prevDeadline time.Time
		for k := range tc.raids {
			r := p.raid(k)
			if r != p.raid(k) {
				t.Fatalf("raid %d is not reproducible", k)
			}
			if r.player < 1 || r.player > tc.players {
				t.Fatalf("raid %d: player %d out of range", k, r.player)
			}
			if _, err := boss.Level(r.level.Level); err != nil || r.level.Score != mustLevel(boss, r.level.Level).Score {
				t.Fatalf("raid %d: level %+v is not of the boss data", k, r.level)
			}
			deadline := r.enter.Add(boss.TimeLimit)
			if !r.enter.After(prevDeadline) {
				t.Fatalf("raid %d entered at %v, before the previous deadline %v: raids overlap", k, r.enter, prevDeadline)
			}
			prevDeadline = deadline
			if !r.end.After(r.enter) || r.end.After(deadline) || (!r.success && !r.end.Equal(deadline)) {
				t.Fatalf("raid %d: end %v outside (enter %v, deadline %v]", k, r.end, r.enter, deadline)
			}
			if !deadline.Before(time.Now()) {
				t.Fatalf("raid %d ends in the future", k)
			}
			if r.success {
				sum[r.player] += int64(r.level.Score)
				cleared[r.player] = true
			}
		}
		if !slices.Equal(sum, totals) {
			t.Fatalf("%+v: totals differ from the raids' sums", tc)
		}
		if tc.raids >= tc.players {
			for i := 1; i <= tc.players; i++ {
				if !cleared[i] {
					t.Fatalf("%+v: player %d never cleared a raid", tc, i)
				}
			}
		}
	}
}

func mustLevel(d raids.BossData, n int) raids.Level {
	l, err := d.Level(n)
	if err != nil {
		panic(err)
	}
	return l
}

func TestRecorderSummary(t *testing.T) {
	rec := NewRecorder()
	rec.Record(RouteEnter, Result{Status: 201, Latency: time.Millisecond})
	rec.Record(RouteEnter, Result{Status: 409, Code: "raid_busy", Latency: 2 * time.Millisecond})
	rec.Record(RouteEnter, Result{Status: 503, Code: "unavailable", Latency: 3 * time.Millisecond})
	rec.Record(RouteStatus, Result{Status: 401, Code: "unauthenticated", Latency: time.Millisecond})
	p := rec.Summarize("t", time.Second)
	server, transport, unexpected := p.Failures()
	if server != 1 || transport != 0 || unexpected != 2 {
		t.Errorf("failures = %d 5xx, %d transport, %d unexpected; want 1, 0, 2", server, transport, unexpected)
	}
	enter, _ := p.Route(RouteEnter)
	if enter.Count != 3 || enter.Codes["409 raid_busy"] != 1 || enter.RPS != 3 {
		t.Errorf("enter summary %+v", enter)
	}
	if err := (Report{Mix: p}).Err(); err == nil {
		t.Error("a run with a 5xx must fail")
	}
}
