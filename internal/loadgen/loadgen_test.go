package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/internal/loadgen"
	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is this package's Redis database number (testenv.Redis lists who uses which).
const redisDB = 7

func TestMain(m *testing.M) { testenv.Main(m, "loadgen") }

func apiFor(t testing.TB, st *testenv.Stack, conns int) *loadgen.API {
	t.Helper()
	base, err := loadgen.CheckTarget(st.URL, false)
	if err != nil {
		t.Fatal(err)
	}
	c := loadgen.NewHTTPClient(conns, 10*time.Second)
	t.Cleanup(c.CloseIdleConnections)
	return &loadgen.API{Base: base, Client: c}
}

func TestRunDrivesEveryActionWithoutErrors(t *testing.T) {
	st := testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB})
	api := apiFor(t, st, 8)
	ctx := context.Background()
	creds, players, err := api.PreparePlayers(ctx, loadgen.PlayerSource{N: 10, Tokens: 6, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 10 || len(players) != 6 {
		t.Fatalf("got %d credentials and %d players", len(creds), len(players))
	}
	mix, err := loadgen.ParseMix("status=30,ranking=30,search=10,enter_end=20,signin=2,signup=2,healthz=6")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := api.Run(ctx, loadgen.Options{
		Concurrency: 8, Duration: 20 * time.Second, MaxRequests: 600, Mix: mix, Healthz: true,
		Levels: []int{0, 1, 2}, Players: players, Credentials: creds,
		Resources: &loadgen.ResourceProbe{API: api, Settle: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log(out.String())
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := rep.Healthz.Total(); n != 600 {
		t.Errorf("healthz phase made %d requests, want 600", n)
	}
	total, _ := rep.Mix.Total()
	enter, _ := rep.Mix.Route(loadgen.RouteEnter)
	end, _ := rep.Mix.Route(loadgen.RouteEnd)
	// Every admitted enter is followed by an end, which is not counted against -n.
	if total-end.Count != 600 {
		t.Errorf("mix made %d requests besides %d ends, want 600", total-end.Count, end.Count)
	}
	if enter.Statuses[201] == 0 || enter.Statuses[201] != end.Statuses[200] {
		t.Errorf("%d enters admitted, %d ended: each admitted player should clear the raid", enter.Statuses[201], end.Statuses[200])
	}
	for _, route := range []string{loadgen.RouteStatus, loadgen.RouteRanking, loadgen.RouteSearch, loadgen.RouteSignIn, loadgen.RouteSignUp, loadgen.RouteHealthz} {
		if r, ok := rep.Mix.Route(route); !ok || r.Count == 0 {
			t.Errorf("%s was never called", route)
		}
	}
	if !strings.Contains(out.String(), "ratio to /healthz") {
		t.Error("the report should compare the mix with /healthz")
	}
}

func TestRunReportsServerErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		w.Header().Set("Retry-After", "2")
		http.Error(w, `{"code":"unavailable"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	base, err := loadgen.CheckTarget(srv.URL, false)
	if err != nil {
		t.Fatal(err)
	}
	api := &loadgen.API{Base: base, Client: loadgen.NewHTTPClient(2, 5*time.Second)}
	mix, _ := loadgen.ParseMix("status=1")
	players := []loadgen.Player{{Access: "x"}}
	rep, err := api.Run(context.Background(), loadgen.Options{Concurrency: 2, MaxRequests: 20, Duration: 10 * time.Second, Mix: mix, Players: players})
	if err != nil {
		t.Fatal(err)
	}
	status, _ := rep.Mix.Route(loadgen.RouteStatus)
	if status.ServerErrors != 20 || status.Codes["503 unavailable"] != 20 {
		t.Errorf("status summary %+v", status)
	}
	if rep.Err() == nil {
		t.Fatal("a run answered with 5xx should fail")
	}
}

func TestEnterBurstAdmitsExactlyOne(t *testing.T) {
	st := testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB})
	api := apiFor(t, st, 100)
	ctx := context.Background()
	_, players, err := api.PreparePlayers(ctx, loadgen.PlayerSource{N: 50, Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := api.EnterBurst(ctx, players, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log(out.String())
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Rounds {
		if r.Winners+r.Busy != 50 {
			t.Errorf("round %d: %d answers, want 50", i+1, r.Winners+r.Busy)
		}
	}
	var raids int
	if err := st.DB.QueryRow(`SELECT count(*) FROM raids WHERE status = 'success'`).Scan(&raids); err != nil {
		t.Fatal(err)
	}
	if raids != 3 {
		t.Errorf("%d raids cleared, want 3 (one per round)", raids)
	}
}

func TestSeedMakesConsistentRankedData(t *testing.T) {
	st := testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB})
	ctx := context.Background()
	rep, err := loadgen.Seed(ctx, st.DB, loadgen.SeedOptions{Players: 300, Raids: 1500, HeavyRaids: 500, RandSeed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Players != 300 || rep.Raids != 2000 || rep.Ranked != 300 || rep.Mismatched != 0 {
		t.Fatalf("report %+v", rep)
	}
	var users, raids, inProgress int
	if err := st.DB.QueryRow(`SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM raids),
		(SELECT count(*) FROM raids WHERE status = 'in_progress')`).Scan(&users, &raids, &inProgress); err != nil {
		t.Fatal(err)
	}
	if users != 300 || raids != 2000 || inProgress != 0 {
		t.Fatalf("database holds %d users, %d raids, %d in progress", users, raids, inProgress)
	}
	var heavy int
	if err := st.DB.QueryRow(`SELECT count(*) FROM raids r JOIN users u ON u.id = r.user_id WHERE u.nickname = $1`,
		loadgen.SeedCredentials(loadgen.HeavyPlayer).Nickname).Scan(&heavy); err != nil || heavy < 500 {
		t.Fatalf("the heavy player has %d raids (%v), want at least 500", heavy, err)
	}
	// The ordinals and counters the triggers would have kept (migration 00006).
	if err := postgres.VerifyCounters(ctx, st.DB); err != nil {
		t.Fatal(err)
	}
	if _, err := loadgen.Seed(ctx, st.DB, loadgen.SeedOptions{Players: 1}); err == nil {
		t.Error("seeding a database that holds seed players should be refused")
	}
	n, _, err := loadgen.RebuildRanking(ctx, st.DB, st.Redis)
	if err != nil || n != 300 {
		t.Fatalf("rebuild: %d players, %v", n, err)
	}
	diffs, err := loadgen.RankMismatches(ctx, st.DB, st.Redis, 100, 300)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Fatalf("ranking disagrees with SQL rank():\n%s", strings.Join(diffs, "\n"))
	}

	// Seed players sign in through the API with the shared hash, and appear in the ranking.
	api := apiFor(t, st, 4)
	_, players, err := api.PreparePlayers(ctx, loadgen.PlayerSource{N: 300, Tokens: 3, Seeded: true, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	res := api.Do(ctx, http.MethodGet, "/api/users/search/"+url.PathEscape(players[0].Nickname), players[0].Access, nil, true)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"total_score":`) {
		t.Fatalf("search: %d %s", res.Status, res.Body)
	}
}
