package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/argon2id"
	"github.com/bossraid/bossraid/adapters/eventhub"
	"github.com/bossraid/bossraid/adapters/fallback"
	"github.com/bossraid/bossraid/adapters/images"
	"github.com/bossraid/bossraid/adapters/jwt"
	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// brokenThrottle is Redis while it is down.
type brokenThrottle struct{}

func (brokenThrottle) Reserve(context.Context, string, int, time.Duration) (bool, time.Duration, error) {
	return false, 0, ports.ErrUnavailable
}
func (brokenThrottle) Release(context.Context, string) error { return ports.ErrUnavailable }
func (brokenThrottle) Count(context.Context, string) (int, time.Duration, error) {
	return 0, 0, ports.ErrUnavailable
}
func (brokenThrottle) Reset(context.Context, string) error { return ports.ErrUnavailable }

// countingHasher counts the hashes made and checked, the costly steps a throttle must guard.
type countingHasher struct {
	ports.PasswordHasher
	hashes, verifies atomic.Int64
}

func (h *countingHasher) Hash(password string) (string, error) {
	h.hashes.Add(1)
	return h.PasswordHasher.Hash(password)
}

func (h *countingHasher) Verify(password, hash string) (bool, error) {
	h.verifies.Add(1)
	return h.PasswordHasher.Verify(password, hash)
}

// staticBoss is a boss data source the test can change.
type staticBoss struct {
	data raids.BossData
	err  error
}

func (s *staticBoss) LoadBossData(context.Context) (raids.BossData, error) { return s.data, s.err }

type world struct {
	app    *app.App
	hasher *countingHasher
	// addresses counts the client addresses handed out by newAddress.
	addresses atomic.Int64
	clock     *fakeClock
	store     *memory.Store
	board     *memory.Leaderboard
	ranking   *fallback.Ranking
	boss      *staticBoss
}

func newWorld(t *testing.T, throttle ports.Throttle) *world {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	argon, err := argon2id.New(argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	hasher := &countingHasher{PasswordHasher: argon}
	tokens, err := jwt.New(jwt.DeriveKey([]byte("a test secret that is long enough"), jwt.TokensPurpose))
	if err != nil {
		t.Fatal(err)
	}
	if throttle == nil {
		throttle = memory.NewThrottle(clock)
	}
	w := &world{clock: clock, hasher: hasher, store: memory.NewStore(clock), board: memory.NewLeaderboard()}
	w.boss = &staticBoss{data: raids.DefaultBossData()}
	w.ranking = fallback.NewRanking(w.board, w.store, nil, slog.New(slog.DiscardHandler))
	w.app, err = app.New(app.Deps{
		Clock: clock, Users: w.store, Sessions: w.store, Tokens: tokens, Hasher: hasher,
		Images: images.New(), Throttle: fallback.NewThrottle(throttle, memory.NewThrottle(clock), slog.New(slog.DiscardHandler)),
		Raids: w.store, Admin: w.store, Standings: w.ranking, Leaderboard: w.board, Totals: w.store,
		Events:     eventhub.New(memory.NewEvents(), slog.New(slog.DiscardHandler)),
		BossSource: w.boss,
	}, app.DefaultSettings(), raids.DefaultBossData())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Ranking.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

const password = "Passw0rd!"

// newAddress is a client address of its own, so the players a test needs are not limited
// by the sign-up throttle.
func (w *world) newAddress() string {
	n := w.addresses.Add(1)
	return fmt.Sprintf("198.18.%d.%d", n/256, n%256)
}

func (w *world) signUp(t *testing.T, nickname string) (app.Player, app.TokenPair) {
	t.Helper()
	ctx := context.Background()
	_, err := w.app.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{
		Email: nickname + "@example.com", Nickname: nickname, Password: password,
	}}, w.newAddress())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := w.app.Accounts.SignIn(ctx, nickname+"@example.com", password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.app.Accounts.Authenticate(ctx, pair.Access)
	if err != nil {
		t.Fatal(err)
	}
	return p, pair
}

func TestSignUpReportsEveryFieldAndTheImage(t *testing.T) {
	w := newWorld(t, nil)
	_, err := w.app.Accounts.SignUp(context.Background(), app.SignUpInput{
		SignUpForm:   users.SignUpForm{Email: "nope", Nickname: "x", Password: "weak", Phone: "12"},
		ProfileImage: []byte("GIF89a not a png"),
	}, "192.0.2.1")
	ve, ok := errors.AsType[*app.ValidationError](err)
	if !ok {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	for _, f := range []string{"email", "nickname", "password", "phone", "profile_image"} {
		if ve.Fields[f] == "" {
			t.Errorf("no error for %s: %v", f, ve.Fields)
		}
	}
	if _, err := w.store.UserByEmail(context.Background(), "nope"); !errors.Is(err, users.ErrNotFound) {
		t.Fatal("a refused sign-up wrote a player")
	}
}

func TestSignUpStoresAVerifiedImageAndRefusesDuplicates(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	u, err := w.app.Accounts.SignUp(ctx, app.SignUpInput{
		SignUpForm:   users.SignUpForm{Email: "Hero@Example.com", Nickname: "용사", Password: password},
		ProfileImage: buf.Bytes(),
	}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "hero@example.com" || u.ProfileImage == "" {
		t.Fatalf("user = %+v", u)
	}
	img, err := w.store.ProfileImage(ctx, u.ProfileImage)
	if err != nil || img.ContentType != "image/png" {
		t.Fatalf("image = %v, %v", img.ContentType, err)
	}
	_, err = w.app.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{Email: "HERO@example.com", Nickname: "other", Password: password}}, "192.0.2.1")
	if !errors.Is(err, users.ErrEmailTaken) {
		t.Fatalf("same email in another case: %v", err)
	}
	_, err = w.app.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{Email: "x@example.com", Nickname: "용사", Password: password}}, "192.0.2.1")
	if !errors.Is(err, users.ErrNicknameTaken) {
		t.Fatalf("same nickname: %v", err)
	}
	big := make([]byte, users.MaxProfileImageBytes+1)
	_, err = w.app.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{Email: "y@example.com", Nickname: "big", Password: password}, ProfileImage: big}, "192.0.2.1")
	if ve, ok := errors.AsType[*app.ValidationError](err); !ok || ve.Fields["profile_image"] == "" {
		t.Fatalf("oversized image: %v", err)
	}
}

func TestSignInIsUniformAndThrottled(t *testing.T) {
	for name, throttle := range map[string]ports.Throttle{"redis up": nil, "redis down": brokenThrottle{}} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, throttle)
			ctx := context.Background()
			w.signUp(t, "alice")
			_, errUnknown := w.app.Accounts.SignIn(ctx, "nobody@example.com", password, "192.0.2.9")
			_, errWrong := w.app.Accounts.SignIn(ctx, "alice@example.com", "Wrong-pass1!", "192.0.2.9")
			if !errors.Is(errUnknown, users.ErrInvalidCredentials) || errUnknown.Error() != errWrong.Error() {
				t.Fatalf("unknown email %v, wrong password %v: want the same error", errUnknown, errWrong)
			}
			// 1 failure so far for alice; a success resets the account's count.
			if _, err := w.app.Accounts.SignIn(ctx, "ALICE@example.com", password, "192.0.2.9"); err != nil {
				t.Fatal(err)
			}
			for range 10 {
				if _, err := w.app.Accounts.SignIn(ctx, "alice@example.com", "Wrong-pass1!", "192.0.2.10"); !errors.Is(err, users.ErrInvalidCredentials) {
					t.Fatalf("failure before the limit: %v", err)
				}
			}
			_, err := w.app.Accounts.SignIn(ctx, "alice@example.com", password, "192.0.2.11")
			rl, ok := errors.AsType[*app.RateLimitedError](err)
			if !ok || rl.RetryAfter <= 0 || rl.RetryAfter > 15*time.Minute {
				t.Fatalf("after 10 failures the right password gives %v, want rate limited", err)
			}
			w.clock.Advance(15*time.Minute + time.Second)
			if _, err := w.app.Accounts.SignIn(ctx, "alice@example.com", password, "192.0.2.11"); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	}
}

func TestSignInThrottlesAClientAddress(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	w.signUp(t, "bob")
	for i := range 100 {
		email := "ghost" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.com"
		if _, err := w.app.Accounts.SignIn(ctx, email, password, "198.51.100.7"); !errors.Is(err, users.ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := w.app.Accounts.SignIn(ctx, "bob@example.com", password, "198.51.100.7"); !errors.Is(err, app.ErrRateLimited) {
		t.Fatalf("101st attempt from one address: %v", err)
	}
	if _, err := w.app.Accounts.SignIn(ctx, "bob@example.com", password, "198.51.100.8"); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

func TestTokensDieAtSignOutAndAtANewSignIn(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	alice, first := w.signUp(t, "alice")
	second, err := w.app.Accounts.SignIn(ctx, "alice@example.com", password, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Accounts.RefreshAccess(ctx, first.Refresh); !errors.Is(err, app.ErrUnauthenticated) {
		t.Fatalf("old refresh token after a new sign-in: %v", err)
	}
	if _, err := w.app.Accounts.RefreshAccess(ctx, first.Access); !errors.Is(err, app.ErrUnauthenticated) {
		t.Fatalf("access token used as a refresh token: %v", err)
	}
	fresh, err := w.app.Accounts.RefreshAccess(ctx, second.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	bob, bobTokens := w.signUp(t, "bob")
	if err := w.app.Accounts.SignOut(ctx, alice, bobTokens.Refresh); !errors.Is(err, app.ErrValidation) {
		t.Fatalf("signing out with another player's token: %v", err)
	}
	if err := w.app.Accounts.SignOut(ctx, alice, second.Refresh); err != nil {
		t.Fatal(err)
	}
	for _, access := range []string{first.Access, second.Access, fresh.Token} {
		if _, err := w.app.Accounts.Authenticate(ctx, access); !errors.Is(err, app.ErrUnauthenticated) {
			t.Fatalf("access token alive after sign-out: %v", err)
		}
	}
	if _, err := w.app.Accounts.RefreshAccess(ctx, second.Refresh); !errors.Is(err, app.ErrUnauthenticated) {
		t.Fatalf("refresh token alive after sign-out: %v", err)
	}
	if err := w.app.Accounts.SignOut(ctx, alice, second.Refresh); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
	if _, err := w.app.Accounts.Authenticate(ctx, bobTokens.Access); err != nil {
		t.Fatalf("bob was signed out with alice: %v", err)
	}
	_ = bob
	w.clock.Advance(15*time.Minute + time.Second)
	if _, err := w.app.Accounts.Authenticate(ctx, bobTokens.Access); !errors.Is(err, app.ErrUnauthenticated) {
		t.Fatalf("expired access token: %v", err)
	}
}

func TestARaidFromEntryToScore(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	alice, _ := w.signUp(t, "alice")
	bob, _ := w.signUp(t, "bob")

	if _, err := w.app.Raids.EnterRaid(ctx, alice, 7); !errors.Is(err, app.ErrValidation) {
		t.Fatalf("unknown level: %v", err)
	}
	r, err := w.app.Raids.EnterRaid(ctx, alice, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Nickname != "alice" || r.Status != raids.StatusInProgress || r.TimeLimit != 180*time.Second {
		t.Fatalf("entered raid = %+v", r)
	}
	for _, p := range []app.Player{alice, bob} {
		_, err := w.app.Raids.EnterRaid(ctx, p, 0)
		busy, ok := errors.AsType[*raids.BusyError](err)
		if !ok || busy.UserID != alice.ID || busy.RaidID != r.ID {
			t.Fatalf("second entry: %v", err)
		}
	}
	st, err := w.app.Raids.Status(ctx)
	if err != nil || st.CanEnter || st.Current.UserID != alice.ID || st.Current.Nickname != "alice" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if _, err := w.app.Raids.EndRaid(ctx, bob, r.ID, nil); !errors.Is(err, raids.ErrNotFound) {
		t.Fatalf("bob ending alice's raid: %v", err)
	}
	wrong := 2
	if _, err := w.app.Raids.EndRaid(ctx, alice, r.ID, &wrong); !errors.Is(err, app.ErrValidation) {
		t.Fatalf("level mismatch: %v", err)
	}
	w.clock.Advance(time.Minute)
	res, err := w.app.Raids.EndRaid(ctx, alice, r.ID, nil)
	if err != nil || res.Raid.Score != 47 || res.TotalScore != 47 || res.Raid.Status != raids.StatusSuccess {
		t.Fatalf("end = %+v, %v", res, err)
	}
	if _, err := w.app.Raids.EndRaid(ctx, alice, r.ID, nil); !errors.Is(err, raids.ErrNotInProgress) {
		t.Fatalf("ending twice: %v", err)
	}
	v, err := w.app.Ranking.Of(ctx, alice)
	if err != nil || len(v.Top) != 1 || v.Mine == nil || v.Mine.TotalScore != 47 || v.Top[0].Nickname != "alice" {
		t.Fatalf("ranking = %+v, %v", v, err)
	}
	v, err = w.app.Ranking.Of(ctx, bob)
	if err != nil || v.Mine != nil || v.MyTotal != 0 {
		t.Fatalf("bob's ranking = %+v, %v", v, err)
	}
}

func TestTheDeadlineDecidesWithoutASweeper(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	alice, _ := w.signUp(t, "alice")
	bob, _ := w.signUp(t, "bob")
	r, err := w.app.Raids.EnterRaid(ctx, alice, 2)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(180 * time.Second) // now == deadline: over
	st, err := w.app.Raids.Status(ctx)
	if err != nil || !st.CanEnter || st.Current != nil {
		t.Fatalf("status at the deadline = %+v, %v", st, err)
	}
	if _, err := w.app.Raids.EndRaid(ctx, alice, r.ID, nil); !errors.Is(err, raids.ErrExpired) {
		t.Fatalf("ending after the deadline: %v", err)
	}
	if _, err := w.app.Raids.EndRaid(ctx, alice, r.ID, nil); !errors.Is(err, raids.ErrExpired) {
		t.Fatalf("asking again: %v", err)
	}
	h, err := w.app.Raids.PlayerHistory(ctx, "ALICE", 0, 10)
	if err != nil || len(h.Raids) != 1 || h.Raids[0].Status != raids.StatusFail || h.TotalScore != 0 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	if !h.Raids[0].EndTime.Equal(r.Deadline) {
		t.Fatalf("a failed raid ends at its deadline, got %v", h.Raids[0].EndTime)
	}
	if _, err := w.app.Raids.EnterRaid(ctx, bob, 0); err != nil {
		t.Fatalf("entering after the deadline: %v", err)
	}
}

func TestRankingFallsBackToTheDatabaseAndRebuilds(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	var players []app.Player
	for _, n := range []string{"p1", "p2", "p3"} {
		p, _ := w.signUp(t, n)
		players = append(players, p)
	}
	for i, p := range players {
		for range i + 1 {
			r, err := w.app.Raids.EnterRaid(ctx, p, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.app.Raids.EndRaid(ctx, p, r.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, err := w.app.Ranking.Of(ctx, players[0])
	if err != nil {
		t.Fatal(err)
	}
	w.board.Forget() // Redis flushed
	got, err := w.app.Ranking.Of(ctx, players[0])
	if err != nil {
		t.Fatal(err)
	}
	if !sameRanking(got, want) {
		t.Fatalf("from the database %+v, want %+v", got, want)
	}
	if err := w.ranking.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.board.Top(ctx, 10); err != nil {
		t.Fatalf("leaderboard not rebuilt: %v", err)
	}
	got, _ = w.app.Ranking.Of(ctx, players[0])
	if !sameRanking(got, want) || got.Top[0].UserID != players[2].ID || got.Top[0].TotalScore != 60 {
		t.Fatalf("after the rebuild %+v, want %+v", got, want)
	}
}

func sameRanking(a, b app.RankingView) bool {
	if len(a.Top) != len(b.Top) || (a.Mine == nil) != (b.Mine == nil) || a.MyTotal != b.MyTotal {
		return false
	}
	for i := range a.Top {
		if a.Top[i] != b.Top[i] {
			return false
		}
	}
	return a.Mine == nil || *a.Mine == *b.Mine
}

func TestPlayerHistoryPagesAndValidates(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	alice, _ := w.signUp(t, "alice")
	for range 12 {
		r, err := w.app.Raids.EnterRaid(ctx, alice, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.app.Raids.EndRaid(ctx, alice, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Second)
	}
	h, err := w.app.Raids.PlayerHistory(ctx, "alice", 10, 10)
	if err != nil || h.TotalCount != 12 || len(h.Raids) != 2 || h.TotalScore != 240 {
		t.Fatalf("page 2 = %+v, %v", h, err)
	}
	if h.Raids[0].ID != 2 || h.Raids[1].ID != 1 {
		t.Fatalf("history is newest first: got ids %d, %d", h.Raids[0].ID, h.Raids[1].ID)
	}
	for _, bad := range [][2]int{{-1, 10}, {0, 0}, {0, 101}} {
		if _, err := w.app.Raids.PlayerHistory(ctx, "alice", bad[0], bad[1]); !errors.Is(err, app.ErrValidation) {
			t.Errorf("offset %d limit %d: %v", bad[0], bad[1], err)
		}
	}
	if _, err := w.app.Raids.PlayerHistory(ctx, "nobody", 0, 10); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("unknown player: %v", err)
	}
}

func TestReloadBossDataKeepsTheLastGoodData(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	w.boss.data = raids.BossData{TimeLimit: 2 * time.Second, Levels: []raids.Level{{Level: 5, Score: 100}}}
	if _, err := w.app.Raids.ReloadBossData(ctx); err != nil {
		t.Fatal(err)
	}
	if w.app.Raids.BossData().TimeLimit != 2*time.Second {
		t.Fatal("reload did not take")
	}
	w.boss.err = raids.ErrInvalidBossData
	if _, err := w.app.Raids.ReloadBossData(ctx); !errors.Is(err, raids.ErrInvalidBossData) {
		t.Fatalf("bad reload: %v", err)
	}
	if d := w.app.Raids.BossData(); d.TimeLimit != 2*time.Second || d.Levels[0].Level != 5 {
		t.Fatalf("a failed reload changed the data: %+v", d)
	}
	alice, _ := w.signUp(t, "alice")
	r, err := w.app.Raids.EnterRaid(ctx, alice, 5)
	if err != nil || r.LevelScore != 100 || r.TimeLimit != 2*time.Second {
		t.Fatalf("raid under new data = %+v, %v", r, err)
	}
}

func TestExactlyOneOfManySimultaneousEntries(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	var players []app.Player
	for i := range 50 {
		p, _ := w.signUp(t, "player"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		players = append(players, p)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, busy := 0, 0
	start := make(chan struct{})
	for _, p := range players {
		wg.Go(func() {
			<-start
			_, err := w.app.Raids.EnterRaid(ctx, p, 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, raids.ErrBusy):
				busy++
			default:
				t.Errorf("unexpected: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 || busy != len(players)-1 {
		t.Fatalf("wins %d, busy %d", wins, busy)
	}
}

func TestCheckingCredentialsLeavesAPITokensAlone(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	_, pair := w.signUp(t, "alice")
	u, err := w.app.Accounts.CheckCredentials(ctx, "Alice@example.com", password, "192.0.2.1")
	if err != nil || u.Nickname != "alice" {
		t.Fatalf("CheckCredentials = %+v, %v", u, err)
	}
	if _, err := w.app.Accounts.RefreshAccess(ctx, pair.Refresh); err != nil {
		t.Fatalf("a web sign-in revoked the API refresh token: %v", err)
	}
	if _, err := w.app.Accounts.CheckCredentials(ctx, "alice@example.com", "Wrong-pass1!", "192.0.2.1"); !errors.Is(err, users.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
}
