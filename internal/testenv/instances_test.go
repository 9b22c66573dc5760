package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, "instances") }

const redisDB = 5

// twoInstances starts two app instances on the same Postgres and Redis, like two replicas
// behind a load balancer, and waits until both follow the change feed.
func twoInstances(t *testing.T) (a, b *testenv.Stack) {
	a = testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB})
	b = testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB, KeepData: true})
	return a, b
}

func signUp(t *testing.T, st *testenv.Stack, nickname string) (app.Player, app.TokenPair) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.App.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{
		Email: nickname + "@example.com", Nickname: nickname, Password: "Passw0rd!",
	}}, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	pair, err := st.App.Accounts.SignIn(ctx, nickname+"@example.com", "Passw0rd!", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.App.Accounts.Authenticate(ctx, pair.Access)
	if err != nil {
		t.Fatal(err)
	}
	return p, pair
}

// eventually polls cond for up to a second: the change feed delivers within milliseconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 1s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSignOutOnOneInstanceKillsTokensOnTheOther(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	alice, pair := signUp(t, a, "alice")
	// Warm both caches with the token's player.
	for range 3 {
		if _, err := b.App.Accounts.Authenticate(ctx, pair.Access); err != nil {
			t.Fatal(err)
		}
		if _, err := a.App.Accounts.Authenticate(ctx, pair.Access); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.App.Accounts.SignOut(ctx, alice, pair.Refresh); err != nil {
		t.Fatal(err)
	}
	// The instance that signed out refuses at once.
	if _, err := a.App.Accounts.Authenticate(ctx, pair.Access); !errors.Is(err, app.ErrUnauthenticated) {
		t.Fatalf("same instance after sign-out: %v", err)
	}
	eventually(t, "the other instance still accepts a signed-out token", func() bool {
		_, err := b.App.Accounts.Authenticate(ctx, pair.Access)
		return errors.Is(err, app.ErrUnauthenticated)
	})
}

func TestRaidStatusIsSharedAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	alice, _ := signUp(t, a, "alice")
	for range 3 { // cache "free" on b
		st, err := b.App.Raids.Status(ctx)
		if err != nil || !st.CanEnter {
			t.Fatalf("status = %+v, %v", st, err)
		}
	}
	r, err := a.App.Raids.EnterRaid(ctx, alice, 1)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other instance still says the raid is free", func() bool {
		st, err := b.App.Raids.Status(ctx)
		return err == nil && !st.CanEnter && st.Current.ID == r.ID
	})
	if _, err := a.App.Raids.EndRaid(ctx, alice, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other instance still shows the ended raid", func() bool {
		st, err := b.App.Raids.Status(ctx)
		return err == nil && st.CanEnter
	})
}

func TestAdminGrantReachesEveryInstance(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	_, pair := signUp(t, a, "alice")
	if p, err := b.App.Accounts.Authenticate(ctx, pair.Access); err != nil || p.IsAdmin() {
		t.Fatalf("before the grant: %+v, %v", p, err)
	}
	if _, err := a.DB.Exec(`UPDATE users SET role = 'admin' WHERE email = 'alice@example.com'`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the grant is not seen", func() bool {
		p, err := b.App.Accounts.Authenticate(ctx, pair.Access)
		return err == nil && p.IsAdmin()
	})
}

func TestRankingFollowsTotalsAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	alice, _ := signUp(t, a, "alice")
	bob, _ := signUp(t, b, "bob")
	for range 3 { // cache the ranking on b, as bob sees it
		v, err := b.App.Ranking.Of(ctx, bob)
		if err != nil || len(v.Top) != 0 {
			t.Fatalf("ranking = %+v, %v", v, err)
		}
	}
	r, err := a.App.Raids.EnterRaid(ctx, alice, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.App.Raids.EndRaid(ctx, alice, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other instance still shows the old ranking", func() bool {
		v, err := b.App.Ranking.Of(ctx, bob)
		return err == nil && len(v.Top) == 1 && v.Top[0].UserID == alice.ID && v.Top[0].TotalScore == 85
	})
	v, err := a.App.Ranking.Of(ctx, alice)
	if err != nil || v.Mine == nil || v.Mine.TotalScore != 85 || v.Mine.Ranking != 0 {
		t.Fatalf("the instance that scored shows %+v, %v", v, err)
	}
}

func TestACachedBusyRaidNeverOutlivesItsEnd(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	alice, _ := signUp(t, a, "alice")
	bob, _ := signUp(t, b, "bob")
	r, err := a.App.Raids.EnterRaid(ctx, alice, 0)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob is let in while alice is inside", func() bool {
		_, err := b.App.Raids.EnterRaid(ctx, bob, 0)
		return errors.Is(err, raids.ErrBusy)
	})
	if _, err := a.App.Raids.EndRaid(ctx, alice, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob is still refused after alice left", func() bool {
		_, err := b.App.Raids.EnterRaid(ctx, bob, 0)
		return err == nil
	})
}

// Guesses spread over two instances at the same moment: the failure is reserved in the
// shared Redis before any password is checked, so only the limit is ever checked.
func TestSimultaneousWrongPasswordsOnTwoInstancesCheckAtMostTheLimit(t *testing.T) {
	a, b := twoInstances(t)
	signUp(t, a, "target")
	limit := a.App.Accounts.Settings().SignInAccountLimit
	body := `{"email":"target@example.com","password":"Wrong-pass1!"}`
	statuses := make(chan int, 40)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range 40 {
		wg.Go(func() {
			url := []string{a.URL, b.URL}[i%2] + "/api/users/signin"
			start.Wait()
			res, err := http.Post(url, "application/json", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			_ = res.Body.Close()
			if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			statuses <- res.StatusCode
		})
	}
	start.Done()
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	want := map[int]int{http.StatusUnauthorized: limit, http.StatusTooManyRequests: 40 - limit}
	if !maps.Equal(got, want) {
		t.Fatalf("40 simultaneous wrong passwords over two instances: statuses %v, want %v", got, want)
	}
}

// rankingOracle is every player's view per SQL rank(): the top 10 and each one's standing.
func rankingOracle(t *testing.T, st *testenv.Stack) (top []raids.Standing, mine map[int64]raids.Standing) {
	t.Helper()
	rows, err := st.DB.Query(`
		SELECT id, nickname, total_score, rank() OVER (ORDER BY total_score DESC) - 1
		FROM users WHERE total_score > 0 ORDER BY total_score DESC, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	mine = map[int64]raids.Standing{}
	for rows.Next() {
		var s raids.Standing
		if err := rows.Scan(&s.UserID, &s.Nickname, &s.TotalScore, &s.Ranking); err != nil {
			t.Fatal(err)
		}
		if len(top) < raids.TopSize {
			top = append(top, s)
		}
		mine[s.UserID] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return top, mine
}

// agreesWithOracle reports whether p's ranking on st is what SQL rank() says.
func agreesWithOracle(t *testing.T, st *testenv.Stack, p app.Player) bool {
	t.Helper()
	v, err := st.App.Ranking.Of(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	top, mine := rankingOracle(t, st)
	want := mine[p.ID]
	if fmt.Sprint(v.Top) != fmt.Sprint(top) || v.MyTotal != want.TotalScore {
		return false
	}
	if want.TotalScore > 0 && want.InTop() {
		return v.Mine != nil && *v.Mine == want
	}
	return v.Mine == nil
}

// Raids cleared on either of two instances: the instance that cleared shows SQL rank() at
// once, the other within the change feed's delay (waited for, not slept).
func TestTwoInstancesRankAsSQLDoes(t *testing.T) {
	a, b := twoInstances(t)
	ctx := context.Background()
	var players []app.Player
	for i := range 14 {
		p, _ := signUp(t, []*testenv.Stack{a, b}[i%2], fmt.Sprintf("ranker%02d", i))
		players = append(players, p)
	}
	for step := range 40 {
		here, there := a, b
		if step%3 == 0 {
			here, there = b, a
		}
		p := players[(step*5)%len(players)]
		r, err := here.App.Raids.EnterRaid(ctx, p, step%3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := here.App.Raids.EndRaid(ctx, p, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		for _, q := range players {
			if !agreesWithOracle(t, here, q) {
				t.Fatalf("step %d: the instance that cleared disagrees with SQL for player %d", step, q.ID)
			}
		}
		for _, q := range players {
			eventually(t, fmt.Sprintf("step %d: the other instance agrees with SQL for player %d", step, q.ID), func() bool {
				return agreesWithOracle(t, there, q)
			})
		}
	}
}
