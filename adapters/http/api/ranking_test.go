package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/testenv"
)

// standing is one ranking entry as the API shows it.
type standing struct {
	Ranking    int64
	UserID     int64
	Nickname   string
	TotalScore int64
}

func toStanding(t testing.TB, v any) standing {
	t.Helper()
	m := object(t, v)
	requireKeys(t, m, "ranking", "user_id", "nickname", "total_score")
	s := standing{Ranking: integer(t, m["ranking"]), UserID: id(t, m["user_id"]), Nickname: str(t, m["nickname"]), TotalScore: integer(t, m["total_score"])}
	if s.Ranking < 0 {
		t.Fatalf("ranking %d is negative", s.Ranking)
	}
	return s
}

// rankingView is a whole ranking answer.
type rankingView struct {
	Top  []standing
	Mine *standing
}

func (e *env) ranking(p *player) rankingView {
	e.t.Helper()
	m := e.expect(e.get("/api/raids/ranking", p.Access), http.StatusOK)
	var v rankingView
	top, ok := m["top_10_ranker"].([]any)
	if !ok {
		e.t.Fatalf("top_10_ranker is %T, want a list: %v", m["top_10_ranker"], m)
	}
	for _, x := range top {
		v.Top = append(v.Top, toStanding(e.t, x))
	}
	if len(v.Top) > 10 {
		e.t.Fatalf("top_10_ranker holds %d players", len(v.Top))
	}
	if m["my_ranking"] == nil {
		requireKeys(e.t, m, "top_10_ranker", "my_ranking", "detail")
		if str(e.t, m["detail"]) == "" {
			e.t.Fatal("my_ranking is null without a detail")
		}
	} else {
		mine := toStanding(e.t, m["my_ranking"])
		v.Mine = &mine
		for k := range m {
			if k != "top_10_ranker" && k != "my_ranking" && k != "detail" {
				e.t.Fatalf("unexpected member %q in %v", k, m)
			}
		}
	}
	return v
}

// oracle is the ranking according to SQL rank() over users.total_score, every ranked player.
func (e *env) oracle() []standing {
	e.t.Helper()
	rows, err := e.st.DB.QueryContext(context.Background(), `
		SELECT rank() OVER (ORDER BY total_score DESC) - 1, id, nickname, total_score
		FROM users WHERE total_score > 0
		ORDER BY total_score DESC, id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []standing
	for rows.Next() {
		var s standing
		if err := rows.Scan(&s.Ranking, &s.UserID, &s.Nickname, &s.TotalScore); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// wantView is what the ranking must answer p, from the oracle.
func wantView(all []standing, p *player) rankingView {
	v := rankingView{Top: all[:min(10, len(all))]}
	for _, s := range all {
		if s.UserID == p.ID && s.Ranking < 10 {
			v.Mine = &s
		}
	}
	return v
}

func sameView(a, b rankingView) bool {
	if fmt.Sprint(a.Top) != fmt.Sprint(b.Top) || (a.Mine == nil) != (b.Mine == nil) {
		return false
	}
	return a.Mine == nil || *a.Mine == *b.Mine
}

// checkAgainstOracle compares every player's answer with SQL.
func (e *env) checkAgainstOracle(players []*player, when string) {
	e.t.Helper()
	all := e.oracle()
	for _, p := range players {
		got, want := e.ranking(p), wantView(all, p)
		if !sameView(got, want) {
			e.t.Fatalf("%s: ranking for %s (%d):\n got  %+v mine %+v\n want %+v mine %+v", when, p.Nickname, p.ID, got.Top, got.Mine, want.Top, want.Mine)
		}
	}
}

func TestRankingTies(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	a, b, c, d := e.newPlayer("Ace"), e.newPlayer("Bee"), e.newPlayer("Cee"), e.newPlayer("Dee")
	zero := e.newPlayer("Zero")

	// Nobody has points yet.
	v := e.ranking(a)
	if len(v.Top) != 0 || v.Mine != nil {
		t.Fatalf("empty ranking: %+v", v)
	}

	// Totals 85, 47, 47, 20 in an order that is not the id order: c and b tie.
	e.play(c, 1)
	e.play(d, 0)
	e.play(b, 1)
	e.play(a, 2)
	want := []standing{
		{0, a.ID, "Ace", 85},
		{1, b.ID, "Bee", 47},
		{1, c.ID, "Cee", 47},
		{3, d.ID, "Dee", 20},
	}
	for i, p := range []*player{a, b, c, d} {
		v := e.ranking(p)
		if fmt.Sprint(v.Top) != fmt.Sprint(want) {
			t.Fatalf("top: got %+v, want %+v", v.Top, want)
		}
		if v.Mine == nil || *v.Mine != want[i] {
			t.Fatalf("my_ranking of %s: got %+v, want %+v", p.Nickname, v.Mine, want[i])
		}
	}
	// A player with no points is outside the ranking.
	if v := e.ranking(zero); v.Mine != nil {
		t.Fatalf("my_ranking of a player without points: %+v", v.Mine)
	}
	// The API is 0-based: the best player is ranking 0 (#1 is for the web UI).
	if e.ranking(zero).Top[0].Ranking != 0 {
		t.Fatal("the best player is not ranking 0")
	}
	e.checkAgainstOracle([]*player{a, b, c, d, zero}, "ties")
}

func TestRankingTop10Boundary(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	// Nine players at 85, then three tied at 47: rankings 0×9, 9, 9, 9. The list holds ten
	// players (the first tied one by id), yet all three tied players are "in the ranking".
	var players []*player
	for i := range 9 {
		p := e.newPlayer(fmt.Sprintf("Top%d", i))
		e.play(p, 2)
		players = append(players, p)
	}
	var tied []*player
	for i := range 3 {
		p := e.newPlayer(fmt.Sprintf("Tied%d", i))
		e.play(p, 1)
		tied = append(tied, p)
	}
	outside := e.newPlayer("Outside")
	e.play(outside, 0)
	nobody := e.newPlayer("Nobody")
	players = append(players, append(tied, outside, nobody)...)

	v := e.ranking(tied[2])
	if len(v.Top) != 10 || v.Top[9].UserID != tied[0].ID || v.Top[9].Ranking != 9 {
		t.Fatalf("top 10: %+v", v.Top)
	}
	if v.Mine == nil || v.Mine.Ranking != 9 || v.Mine.UserID != tied[2].ID || v.Mine.TotalScore != 47 {
		t.Fatalf("a tied player at ranking 9 outside the list: my_ranking %+v", v.Mine)
	}
	// Ranking 12: outside.
	if v := e.ranking(outside); v.Mine != nil {
		t.Fatalf("my_ranking of ranking 12: %+v", v.Mine)
	}
	e.checkAgainstOracle(players, "boundary")

	// One more point for the outsider: 20+20 = 40 < 47, still outside; 20+47 = 67 passes the tied.
	e.play(outside, 0)
	e.checkAgainstOracle(players, "40 points")
	e.play(outside, 1)
	e.checkAgainstOracle(players, "87 points")
	if v := e.ranking(outside); v.Mine == nil || v.Mine.Ranking != 0 || v.Top[0].UserID != outside.ID {
		t.Fatalf("the outsider now leads: %+v, mine %+v", v.Top, v.Mine)
	}
}

// A randomized game, then every player's ranking is checked against SQL rank(), before and
// after Redis loses the ranking.
func TestRankingMatchesSQL(t *testing.T) {
	// Small scores make many ties.
	boss, err := raids.ParseBossData([]byte(`{"bossRaids":[{"bossRaidLimitSeconds":60,
		"levels":[{"level":0,"score":1},{"level":1,"score":2},{"level":2,"score":3}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, testenv.StackOptions{BossData: &boss})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	var players []*player
	for i := range 24 {
		players = append(players, e.newPlayer(fmt.Sprintf("Rnd%02d", i)))
	}
	for range 70 {
		p := players[rng.IntN(len(players)-3)] // the last three never play
		level := rng.IntN(3)
		raidID := e.enterOK(p, level)
		e.expect(e.end(p, raidID, &level), http.StatusOK)
	}
	if err := e.st.EnsureRanking(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.checkAgainstOracle(players, "from Redis")

	// Totals are the sum of successful raids.
	var bad int
	if err := e.st.DB.QueryRow(`
		SELECT count(*) FROM users u
		WHERE u.total_score <> (SELECT coalesce(sum(score), 0) FROM raids r WHERE r.user_id = u.id AND r.status = 'success')`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d players' total_score differs from the sum of their raids", bad)
	}
	for _, p := range players[:5] {
		var total int64
		if err := e.st.DB.QueryRow(`SELECT total_score FROM users WHERE id = $1`, p.ID).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if got := integer(t, e.search(p, p.Nickname, "")["total_score"]); got != total {
			t.Fatalf("search total %d, database %d", got, total)
		}
	}

	before := map[int64]rankingView{}
	for _, p := range players {
		before[p.ID] = e.ranking(p)
	}
	if err := e.st.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	for _, p := range players {
		if got := e.ranking(p); !sameView(got, before[p.ID]) {
			t.Fatalf("after FLUSHDB, ranking for %s: %+v mine %+v; before: %+v mine %+v", p.Nickname, got.Top, got.Mine, before[p.ID].Top, before[p.ID].Mine)
		}
	}
	// A raid cleared while the ranking is being rebuilt, then the rebuilt ranking.
	p := players[len(players)-1]
	two := 2
	e.expect(e.end(p, e.enterOK(p, 2), &two), http.StatusOK)
	e.checkAgainstOracle(players, "after FLUSHDB")
	if err := e.st.EnsureRanking(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.checkAgainstOracle(players, "rebuilt")
}
