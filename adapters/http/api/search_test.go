package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/testenv"
)

// privateKeys must never appear anywhere in a public answer.
var privateKeys = []string{"email", "phone", "password", "password_hash", "role", "token_version"}

// walkKeys calls fn with every member name in v, at any depth.
func walkKeys(v any, fn func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			fn(k)
			walkKeys(x, fn)
		}
	case []any:
		for _, x := range v {
			walkKeys(x, fn)
		}
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	// A player with private details, seen by another.
	r := e.postJSON("/api/users/signup", "", map[string]string{
		"email": "secret.hero@example.com", "nickname": "HeroOfTime", "password": "Hero_pass1!", "phone": "+82-10-9876-5432",
	})
	e.expect(r, http.StatusCreated)
	hero := &player{Email: "secret.hero@example.com", Nickname: "HeroOfTime", Password: "Hero_pass1!", Phone: "+82-10-9876-5432"}
	e.signIn(hero)
	viewer := e.newPlayer("Viewer")
	e.newPlayer("검객")

	// 13 raids, more than a page: 12 cleared at levels 0,1,2,0,1,2,..., one left to expire later.
	var wantTotal int64
	var ids []int64
	for i := range 12 {
		level := i % 3
		raidID := e.enterOK(hero, level)
		e.expect(e.end(hero, raidID, &level), http.StatusOK)
		wantTotal += int64(levelScores[level])
		ids = append(ids, raidID)
	}
	last := e.enterOK(hero, 2) // still in progress
	ids = append(ids, last)

	t.Run("defaults and totals over all history", func(t *testing.T) {
		e := e.sub(t)
		m := e.search(viewer, "HeroOfTime", "")
		requireKeys(t, m, "nickname", "total_score", "total_count", "offset", "limit", "histories")
		if m["nickname"] != "HeroOfTime" || integer(t, m["total_score"]) != wantTotal || integer(t, m["total_count"]) != 13 ||
			integer(t, m["offset"]) != 0 || integer(t, m["limit"]) != 10 {
			t.Fatalf("search %v, want total %d over 13 raids, offset 0, limit 10", m, wantTotal)
		}
		hs := m["histories"].([]any)
		if len(hs) != 10 {
			t.Fatalf("%d histories, want a page of 10", len(hs))
		}
		for i, v := range hs {
			h := object(t, v)
			requireKeys(t, h, "id", "level", "status", "score", "enter_time", "end_time", "time_limit")
			want := ids[len(ids)-1-i] // newest first
			if id(t, h["id"]) != want {
				t.Fatalf("history %d is raid %v, want %d", i, h["id"], want)
			}
			if i > 0 && timestamp(t, h["enter_time"]).After(timestamp(t, object(t, hs[i-1])["enter_time"])) {
				t.Fatalf("history %d entered after history %d: not newest first", i, i-1)
			}
			if integer(t, h["time_limit"]) != int64(raids.DefaultBossData().TimeLimit.Seconds()) {
				t.Fatalf("time_limit %v", h["time_limit"])
			}
			level := int(integer(t, h["level"]))
			if i == 0 {
				if h["status"] != "in_progress" || h["end_time"] != nil || integer(t, h["score"]) != 0 {
					t.Fatalf("raid in progress shown as %v", h)
				}
				continue
			}
			// Times are shown to the millisecond, and a raid entered and cleared at once by the
			// test may end within the millisecond it started in: never before it.
			if h["status"] != "success" || integer(t, h["score"]) != int64(levelScores[level]) || timestamp(t, h["end_time"]).Before(timestamp(t, h["enter_time"])) {
				t.Fatalf("cleared raid shown as %v", h)
			}
		}
	})

	t.Run("pages", func(t *testing.T) {
		e := e.sub(t)
		cases := []struct {
			query       string
			offset, lim int
			n           int
		}{
			{"limit=1", 0, 1, 1},
			{"limit=100", 0, 100, 13},
			{"offset=10", 10, 10, 3},
			{"offset=5&limit=4", 5, 4, 4},
			{"offset=12&limit=5", 12, 5, 1},
			{"offset=13", 13, 10, 0},
			{"offset=1000", 1000, 10, 0},
			{"offset=0&limit=10", 0, 10, 10},
		}
		for _, tc := range cases {
			m := e.search(viewer, "HeroOfTime", tc.query)
			hs := m["histories"].([]any)
			if integer(t, m["offset"]) != int64(tc.offset) || integer(t, m["limit"]) != int64(tc.lim) || len(hs) != tc.n ||
				integer(t, m["total_count"]) != 13 || integer(t, m["total_score"]) != wantTotal {
				t.Fatalf("%s: offset %v limit %v, %d histories, count %v, total %v", tc.query, m["offset"], m["limit"], len(hs), m["total_count"], m["total_score"])
			}
			for i, v := range hs {
				if got, want := id(t, object(t, v)["id"]), ids[len(ids)-1-tc.offset-i]; got != want {
					t.Fatalf("%s: history %d is raid %d, want %d", tc.query, i, got, want)
				}
			}
		}
		if hs := e.search(viewer, "HeroOfTime", "offset=13")["histories"]; hs == nil {
			t.Fatal("histories is null past the end; want []")
		}
	})

	t.Run("bad paging", func(t *testing.T) {
		e := e.sub(t)
		cases := []struct {
			query  string
			fields []string
		}{
			{"limit=0", []string{"limit"}},
			{"limit=101", []string{"limit"}},
			{"limit=-1", []string{"limit"}},
			{"limit=abc", []string{"limit"}},
			{"limit=1.5", []string{"limit"}},
			{"limit=99999999999999999999", []string{"limit"}},
			{"offset=-1", []string{"offset"}},
			{"offset=abc", []string{"offset"}},
			{"offset=-1&limit=0", []string{"offset", "limit"}},
		}
		for _, tc := range cases {
			m := e.problem(e.get(searchPath("HeroOfTime", tc.query), viewer.Access), http.StatusBadRequest, "validation_failed")
			requireFields(t, m, tc.fields...)
		}
		// Bad paging is a 400 even for an unknown player.
		e.problem(e.get(searchPath("Nobody", "limit=0"), viewer.Access), http.StatusBadRequest, "validation_failed")
	})

	t.Run("nicknames", func(t *testing.T) {
		e := e.sub(t)
		for _, nick := range []string{"herooftime", "HEROOFTIME", "hErOoFtImE"} {
			if m := e.search(viewer, nick, ""); m["nickname"] != "HeroOfTime" {
				t.Fatalf("search %q found %v", nick, m["nickname"])
			}
		}
		for _, nick := range []string{"Nobody", "HeroOfTim", "HeroOfTime2", "Hero%", "Hero_fTime", "검"} {
			e.problem(e.get(searchPath(nick, ""), viewer.Access), http.StatusNotFound, "not_found")
		}
		m := e.search(viewer, "검객", "")
		if m["nickname"] != "검객" || integer(t, m["total_count"]) != 0 || integer(t, m["total_score"]) != 0 || len(m["histories"].([]any)) != 0 {
			t.Fatalf("a player without raids: %v", m)
		}
		// A player may look themselves up.
		e.search(hero, "HeroOfTime", "limit=1")
	})

	t.Run("nothing private", func(t *testing.T) {
		e := e.sub(t)
		for _, q := range []string{"", "limit=100"} {
			r := e.get(searchPath("HeroOfTime", q), viewer.Access)
			m := e.expect(r, http.StatusOK)
			walkKeys(m, func(k string) {
				for _, bad := range privateKeys {
					if strings.EqualFold(k, bad) {
						t.Fatalf("search shows %q: %s", k, r.Body)
					}
				}
			})
			body := string(r.Body)
			for _, secret := range []string{hero.Email, "9876", "argon2"} {
				if strings.Contains(body, secret) {
					t.Fatalf("search shows %q: %s", secret, body)
				}
			}
		}
	})
}
