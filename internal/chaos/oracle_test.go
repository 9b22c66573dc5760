package chaos

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/testenv"
)

// The oracle's rules on their own, so a soak that reports 0 violations is known to be able to
// report some.
func TestOverlaps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	cases := []struct {
		name  string
		spans []span
		want  int
	}{
		{"one after the other", []span{{1, at(0), at(2)}, {2, at(2), at(3)}, {3, at(5), at(8)}}, 0},
		{"entered while another held the raid", []span{{1, at(0), at(3)}, {2, at(2.9), at(4)}}, 1},
		{"inside a long one, out of order", []span{{3, at(4), at(5)}, {1, at(0), at(10)}, {2, at(1), at(2)}}, 2},
	}
	for _, c := range cases {
		if got := overlaps(c.spans); len(got) != c.want {
			t.Errorf("%s: %d overlaps %v, want %d", c.name, len(got), got, c.want)
		}
	}
	// A raid that ran out holds the door until its deadline, not longer.
	expired := storedRaid{status: "fail", enter: at(0), deadline: at(3)}
	cleared := storedRaid{status: "success", enter: at(0), deadline: at(3)}
	cleared.end.Time, cleared.end.Valid = at(1), true
	if got := overlaps([]span{expired.span(1), {2, at(3), at(4)}}); len(got) != 0 {
		t.Errorf("an enter at the deadline of an expired raid: %v", got)
	}
	if got := overlaps([]span{cleared.span(1), {2, at(1.5), at(4)}}); len(got) != 0 {
		t.Errorf("an enter after a clear: %v", got)
	}
	if got := overlaps([]span{cleared.span(1), {2, at(0.5), at(4)}}); len(got) != 1 {
		t.Errorf("an enter before a clear: %v", got)
	}
}

func TestJudge(t *testing.T) {
	tl := &timeline{}
	o := newOracle(tl)
	now := time.Now()
	redisDown := &fault{target: redisTarget, kind: kill, start: now.Add(-10 * time.Second), restored: now.Add(-8 * time.Second)}
	appDown := &fault{target: app1, kind: kill, start: now.Add(-time.Second)} // not back yet
	tl.add(redisDown)
	tl.add(appDown)
	lost := errors.New("connection refused")
	cases := []struct {
		name     string
		route    string
		instance int
		sent     time.Time
		a        answer
		rule     string // "" when no violation
	}{
		{"a game outcome", routeEnter, 0, now, answer{status: 409, code: "raid_busy"}, ""},
		{"a throttled sign-in", routeSignIn, 0, now, answer{status: 429}, ""},
		{"a status outside the game", routeStatus, 0, now, answer{status: 401}, "answer outside the route's game outcomes"},
		{"a 500", routeLobby, 0, now, answer{status: 500, body: []byte("Internal Server Error")}, "5xx other than 503"},
		{"503 without Retry-After", routeStatus, 0, now.Add(-9 * time.Second), answer{status: 503}, "503 without Retry-After"},
		{"503 during the Redis outage", routeStatus, 0, now.Add(-9 * time.Second), answer{status: 503, retryAfter: "1"}, ""},
		{"503 within the recovery bound", routeStatus, 0, now.Add(-4 * time.Second), answer{status: 503, retryAfter: "1"}, ""},
		{"503 long after", routeStatus, 0, now.Add(-2 * time.Second), answer{status: 503, retryAfter: "1"}, "503 while every process was up"},
		{"lost answer of the killed instance", routeStatus, 1, now, answer{err: lost}, ""},
		{"lost answer of the healthy instance", routeStatus, 0, now, answer{err: lost}, "transport error while every process was up"},
	}
	for _, c := range cases {
		o.violations = map[string]*violation{}
		o.judge(c.route, c.instance, c.sent, c.a)
		var got string
		for rule := range o.violations {
			got = rule
		}
		switch {
		case c.rule == "" && got != "":
			t.Errorf("%s: violation %q, want none", c.name, got)
		case c.rule != "" && !strings.HasPrefix(got, c.rule):
			t.Errorf("%s: violation %q, want %q", c.name, got, c.rule)
		}
	}
	if o.outcomes[routeStatus]["503"] == 0 || o.details[routeEnter]["409 raid_busy"] != 1 || o.outcomes[routeStatus]["transport"] != 2 {
		t.Errorf("outcomes not counted: %v %v", o.outcomes, o.details)
	}
}

// The queue's rules as the soak checks them in Postgres: a line out of commit order and a
// player left waiting after entering are both reported; a sound line is not.
func TestBrokenLine(t *testing.T) {
	d, err := testenv.NewDatabase("chaos_line")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Drop() })
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := d.DB.Exec(q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	exec(`INSERT INTO users (email, nickname, nickname_key, password_hash)
		SELECT 'q' || g || '@example.com', 'q' || g, 'q' || g, 'x' FROM generate_series(1, 3) g`)
	exec(`INSERT INTO raid_queue (user_id, seq, joined_at, turn)
		SELECT id, id, now() - interval '1 minute' + id * interval '1 second', interval '20 seconds' FROM users`)
	exec(`INSERT INTO raids (user_id, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
		SELECT id, 0, 20, interval '1 minute', 'success', 20, now() - interval '2 minutes', now() - interval '1 minute', now() - interval '90 seconds'
		FROM users`)
	if broken, err := brokenLine(ctx, d.DB); err != nil || len(broken) != 0 {
		t.Fatalf("a sound line (raids before the joins): %v, %v", broken, err)
	}
	exec(`UPDATE raid_queue SET joined_at = now() - interval '5 minutes' WHERE seq = 3`)
	exec(`INSERT INTO raids (user_id, level, level_score, time_limit, status, score, enter_time, deadline)
		SELECT min(id), 0, 20, interval '1 minute', 'in_progress', 0, now(), now() + interval '1 minute' FROM users`)
	broken, err := brokenLine(ctx, d.DB)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, b := range broken {
		rules = append(rules, b[0])
	}
	if len(broken) != 2 || !strings.Contains(rules[0], "order") || !strings.Contains(rules[1], "after entering") {
		t.Errorf("a line out of order and a player waiting after entering: %q", broken)
	}
}
