package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/http/api"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/testenv"
)

// levelScores are the built-in boss raid data's levels.
var levelScores = map[int]int{0: 20, 1: 47, 2: 85}

// shortBoss is boss raid data with a time limit of limit.
func shortBoss(t testing.TB, limit time.Duration) *raids.BossData {
	t.Helper()
	d, err := raids.ParseBossData(fmt.Appendf(nil,
		`{"bossRaids":[{"bossRaidLimitSeconds":%g,"levels":[{"level":0,"score":20},{"level":1,"score":47},{"level":2,"score":85}]}]}`,
		limit.Seconds()))
	if err != nil {
		t.Fatal(err)
	}
	return &d
}

// checkEntered verifies a 201 enter answer and returns its result.
func checkEntered(t testing.TB, m map[string]any, p *player, level int, limit time.Duration) map[string]any {
	t.Helper()
	requireKeys(t, m, "is_entered", "result")
	if m["is_entered"] != true {
		t.Fatalf("is_entered %v", m["is_entered"])
	}
	res := object(t, m["result"])
	requireKeys(t, res, "id", "nickname", "level", "status", "enter_time", "deadline", "time_limit")
	id(t, res["id"])
	if res["nickname"] != p.Nickname || integer(t, res["level"]) != int64(level) || res["status"] != "in_progress" {
		t.Fatalf("result %v for %s at level %d", res, p.Nickname, level)
	}
	enter, deadline := timestamp(t, res["enter_time"]), timestamp(t, res["deadline"])
	if integer(t, res["time_limit"]) != int64(limit/time.Second) {
		t.Fatalf("time_limit %v, want %v", res["time_limit"], limit)
	}
	if got := deadline.Sub(enter); got < limit-time.Millisecond || got > limit+time.Millisecond {
		t.Fatalf("deadline - enter_time = %v, want %v", got, limit)
	}
	if d := time.Since(enter); d < -time.Minute || d > time.Minute {
		t.Fatalf("enter_time %v is not now", enter)
	}
	return res
}

// checkBusy verifies a raid_busy answer names the holder.
func (e *env) checkBusy(r response, holder *player, raidID int64) {
	e.t.Helper()
	m := e.problem(r, http.StatusConflict, "raid_busy")
	requireKeys(e.t, m, "code", "detail", "is_entered", "entered_user_id", "raid_history_id")
	if m["is_entered"] != false || id(e.t, m["entered_user_id"]) != holder.ID || id(e.t, m["raid_history_id"]) != raidID {
		e.t.Fatalf("busy answer %v, want player %d in raid %d", m, holder.ID, raidID)
	}
}

func TestEnterRaid(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p, q := e.newPlayer("Enterer"), e.newPlayer("Waiter")
	limit := raids.DefaultBossData().TimeLimit

	t.Run("refused bodies", func(t *testing.T) {
		e := e.sub(t)
		cases := []struct {
			name string
			body any
			code string
		}{
			{"unknown level", `{"level": 3}`, "validation_failed"},
			{"negative level", `{"level": -1}`, "validation_failed"},
			{"huge level", `{"level": 99999999999999999999}`, "validation_failed"},
			{"missing level", `{}`, "validation_failed"},
			{"null level", `{"level": null}`, "validation_failed"},
			{"string level", `{"level": "1"}`, "validation_failed"},
			{"fractional level", `{"level": 1.5}`, "validation_failed"},
			{"unknown field", `{"level": 1, "boss": 2}`, "validation_failed"},
			{"malformed", `{"level": `, "invalid_json"},
			{"empty body", ``, "invalid_json"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				m := e.problem(e.postJSON("/api/raids/enter", p.Access, tc.body), http.StatusBadRequest, tc.code)
				if tc.code == "validation_failed" && fieldErrors(t, m) == nil {
					t.Fatalf("no field named: %v", m)
				}
			})
		}
		requireFields(t, e.problem(e.postJSON("/api/raids/enter", p.Access, `{"level": 3}`), http.StatusBadRequest, "validation_failed"), "level")
		requireFields(t, e.problem(e.postJSON("/api/raids/enter", p.Access, `{}`), http.StatusBadRequest, "validation_failed"), "level")
		e.problem(e.must(request{Method: http.MethodPost, Path: "/api/raids/enter", Token: p.Access, ContentType: "text/plain", Body: []byte(`{"level":0}`)}), http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.problem(e.postJSON("/api/raids/enter", p.Access, `{"level":0`+strings.Repeat(" ", api.MaxJSONBody)+`}`), http.StatusRequestEntityTooLarge, "payload_too_large")
		// None of that entered anyone.
		st := e.expect(e.get("/api/raids/status", p.Access), http.StatusOK)
		if st["can_enter"] != true {
			t.Fatalf("refused entries left the raid busy: %v", st)
		}
	})

	t.Run("enter, then busy for everyone", func(t *testing.T) {
		e := e.sub(t)
		res := checkEntered(t, e.expect(e.enter(p, 1), http.StatusCreated), p, 1, limit)
		raidID := id(t, res["id"])
		e.checkBusy(e.enter(q, 0), p, raidID)
		// The player already inside gets raid_busy like anyone else.
		e.checkBusy(e.enter(p, 1), p, raidID)
		e.checkBusy(e.enter(p, 2), p, raidID)
		// An unknown level is still a 400 while busy.
		e.problem(e.enter(q, 7), http.StatusBadRequest, "validation_failed")
		// Once cleared, the next player may enter.
		e.expect(e.end(p, raidID, nil), http.StatusOK)
		checkEntered(t, e.expect(e.enter(q, 2), http.StatusCreated), q, 2, limit)
	})
}

func TestEnterRaidRace(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	const n = 50
	players := make([]*player, n)
	for i := range players {
		players[i] = e.newPlayer(fmt.Sprintf("Racer%02d", i))
	}
	for round := range 3 {
		results := make([]response, n)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i, p := range players {
			wg.Go(func() {
				start.Wait()
				r, err := e.do(request{Method: http.MethodPost, Path: "/api/raids/enter", Token: p.Access, ContentType: "application/json", Body: []byte(`{"level":0}`)})
				if err == nil {
					results[i] = r
				}
			})
		}
		start.Done()
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		var winner *player
		var raidID int64
		for i, r := range results {
			if r.Status == http.StatusCreated {
				if winner != nil {
					t.Fatalf("round %d: %s and %s both entered", round, winner.Nickname, players[i].Nickname)
				}
				winner = players[i]
				raidID = id(t, object(t, e.expect(r, http.StatusCreated)["result"])["id"])
			}
		}
		if winner == nil {
			t.Fatalf("round %d: nobody entered: %v", round, results[0])
		}
		for i, r := range results {
			if players[i] != winner {
				e.checkBusy(r, winner, raidID)
			}
		}
		var inProgress int
		if err := e.st.DB.QueryRow(`SELECT count(*) FROM raids WHERE status = 'in_progress'`).Scan(&inProgress); err != nil {
			t.Fatal(err)
		}
		if inProgress != 1 {
			t.Fatalf("round %d: %d raids in progress", round, inProgress)
		}
		e.expect(e.end(winner, raidID, nil), http.StatusOK)
	}
}

// checkEnded verifies a 200 end answer.
func checkEnded(t testing.TB, m map[string]any, p *player, raidID int64, level int) map[string]any {
	t.Helper()
	requireKeys(t, m, "result")
	res := object(t, m["result"])
	requireKeys(t, res, "id", "nickname", "level", "status", "enter_time", "end_time", "score", "time_limit")
	if id(t, res["id"]) != raidID || res["nickname"] != p.Nickname || integer(t, res["level"]) != int64(level) || res["status"] != "success" {
		t.Fatalf("result %v, want raid %d of %s at level %d, success", res, raidID, p.Nickname, level)
	}
	if integer(t, res["score"]) != int64(levelScores[level]) {
		t.Fatalf("score %v, want %d", res["score"], levelScores[level])
	}
	enter, end := timestamp(t, res["enter_time"]), timestamp(t, res["end_time"])
	if end.Before(enter) {
		t.Fatalf("end_time %v before enter_time %v", end, enter)
	}
	return res
}

func TestEndRaid(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p, q := e.newPlayer("Finisher"), e.newPlayer("Intruder")

	t.Run("success at each level, with and without level", func(t *testing.T) {
		e := e.sub(t)
		var total int64
		for level := range 3 {
			raidID := e.enterOK(p, level)
			var r response
			switch level {
			case 0:
				r = e.end(p, raidID, nil) // no body at all
			case 1:
				r = e.sendJSON(http.MethodPatch, endPath(raidID), p.Access, `{}`)
			default:
				r = e.end(p, raidID, &level)
			}
			res := checkEnded(t, e.expect(r, http.StatusOK), p, raidID, level)
			total += integer(t, res["score"])
			// Ended: the raid is free again.
			if st := e.expect(e.get("/api/raids/status", p.Access), http.StatusOK); st["can_enter"] != true {
				t.Fatalf("status after the end: %v", st)
			}
		}
		if got := integer(t, e.search(p, p.Nickname, "")["total_score"]); got != total {
			t.Fatalf("total_score %d, want %d", got, total)
		}
	})

	t.Run("errors in the API's order", func(t *testing.T) {
		e := e.sub(t)
		mine := e.enterOK(p, 1)
		wrong, right := 2, 1

		// 401 first, whatever the raid.
		for _, path := range []string{endPath(mine), endPath(999_999)} {
			e.problem(e.must(request{Method: http.MethodPatch, Path: path}), http.StatusUnauthorized, "unauthenticated")
			e.problem(e.must(request{Method: http.MethodPatch, Path: path, Token: "nope", ContentType: "application/json", Body: []byte(`{"level":`)}), http.StatusUnauthorized, "unauthenticated")
		}

		// 404 next: an unknown raid and someone else's look the same, whatever the body.
		unknown := e.problem(e.end(q, 999_999, nil), http.StatusNotFound, "not_found")
		for _, body := range []string{"", `{}`, `{"level": 1}`, `{"level": 2}`, `{"level": 9}`} {
			var r, u response
			if body == "" {
				r, u = e.end(q, mine, nil), e.end(q, 999_999, nil)
			} else {
				r = e.sendJSON(http.MethodPatch, endPath(mine), q.Access, body)
				u = e.sendJSON(http.MethodPatch, endPath(999_999), q.Access, body)
			}
			other := e.problem(r, http.StatusNotFound, "not_found")
			e.problem(u, http.StatusNotFound, "not_found")
			if fmt.Sprint(other) != fmt.Sprint(unknown) || string(r.Body) != string(u.Body) {
				t.Fatalf("someone else's raid %s, unknown raid %s: they can be told apart", r, u)
			}
		}
		for _, path := range []string{"/api/raids/0/end", "/api/raids/00/end", "/api/raids/99999999999999999999/end"} {
			e.problem(e.must(request{Method: http.MethodPatch, Path: path, Token: p.Access}), http.StatusNotFound, "not_found")
		}

		// 400: the level does not match; the raid is untouched.
		requireFields(t, e.problem(e.end(p, mine, &wrong), http.StatusBadRequest, "validation_failed"), "level")
		e.problem(e.sendJSON(http.MethodPatch, endPath(mine), p.Access, `{"level": "1"}`), http.StatusBadRequest, "validation_failed")
		e.problem(e.sendJSON(http.MethodPatch, endPath(mine), p.Access, `{"level": 1, "score": 9000}`), http.StatusBadRequest, "validation_failed")
		e.problem(e.sendJSON(http.MethodPatch, endPath(mine), p.Access, `{"level": `), http.StatusBadRequest, "invalid_json")
		e.problem(e.sendJSON(http.MethodPatch, endPath(mine), p.Access, `{"level":1`+strings.Repeat(" ", api.MaxJSONBody)+`}`), http.StatusRequestEntityTooLarge, "payload_too_large")
		e.problem(e.must(request{Method: http.MethodPatch, Path: endPath(mine), Token: p.Access, ContentType: "text/plain", Body: []byte(`{"level":1}`)}), http.StatusUnsupportedMediaType, "unsupported_media_type")
		if st := e.expect(e.get("/api/raids/status", p.Access), http.StatusOK); st["can_enter"] != false || id(t, st["raid_history_id"]) != mine {
			t.Fatalf("a refused end changed the raid: %v", st)
		}

		// Cleared once; then 409, but a level mismatch is still the 400 it was.
		checkEnded(t, e.expect(e.end(p, mine, &right), http.StatusOK), p, mine, 1)
		e.problem(e.end(p, mine, &right), http.StatusConflict, "raid_not_in_progress")
		e.problem(e.end(p, mine, nil), http.StatusConflict, "raid_not_in_progress")
		requireFields(t, e.problem(e.end(p, mine, &wrong), http.StatusBadRequest, "validation_failed"), "level")
		// Still 404 for the intruder, now that it has ended.
		e.problem(e.end(q, mine, &right), http.StatusNotFound, "not_found")
		// It scored once.
		if got := integer(t, e.search(p, p.Nickname, "")["total_score"]); got != 20+47+85+47 {
			t.Fatalf("total_score %d after ending twice", got)
		}
	})
}

// A malformed body must not reveal whether a raid exists: 404 comes before 400 (SPEC §2).
func TestEndRaidBodyErrorsAfterNotFound(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p, q := e.newPlayer("Owner"), e.newPlayer("Prober")
	mine := e.enterOK(p, 0)
	for _, body := range []string{`{"level": `, `{"level": "0"}`, `{"lvl": 0}`, `[]`} {
		t.Run(body, func(t *testing.T) {
			e := e.sub(t)
			other := e.sendJSON(http.MethodPatch, endPath(mine), q.Access, body)
			unknown := e.sendJSON(http.MethodPatch, endPath(mine+1000), q.Access, body)
			e.problem(other, http.StatusNotFound, "not_found")
			e.problem(unknown, http.StatusNotFound, "not_found")
		})
	}
}

func TestEndRaidDeadline(t *testing.T) {
	const limit = 2 * time.Second
	e := newEnv(t, testenv.StackOptions{BossData: shortBoss(t, limit)})
	p, q := e.newPlayer("Sprinter"), e.newPlayer("Latecomer")

	// Cleared in time: half-way through the limit.
	raidID := e.enterOK(p, 2)
	time.Sleep(limit / 2)
	two := 2
	checkEnded(t, e.expect(e.end(p, raidID, &two), http.StatusOK), p, raidID, 2)

	// Too late.
	entered := checkEntered(t, e.expect(e.enter(p, 1), http.StatusCreated), p, 1, limit)
	late := id(t, entered["id"])
	deadline := timestamp(t, entered["deadline"])
	time.Sleep(limit + time.Second)
	// Before anyone ends it, every read already judges by the deadline (no sweeper runs).
	st := e.expect(e.get("/api/raids/status", q.Access), http.StatusOK)
	if st["can_enter"] != true || st["raid_history_id"] != nil {
		t.Fatalf("status after the deadline: %v", st)
	}
	hist := e.search(q, p.Nickname, "limit=1")
	h := object(t, hist["histories"].([]any)[0])
	if id(t, h["id"]) != late || h["status"] != "fail" || !timestamp(t, h["end_time"]).Equal(deadline) || integer(t, h["score"]) != 0 {
		t.Fatalf("history after the deadline: %v (deadline %v)", h, deadline)
	}

	e.problem(e.end(p, late, nil), http.StatusConflict, "raid_expired")
	// Asked again (and with the right level), still expired, not "not in progress".
	one := 1
	e.problem(e.end(p, late, &one), http.StatusConflict, "raid_expired")
	e.problem(e.end(p, late, nil), http.StatusConflict, "raid_expired")
	// Someone else still gets 404; a level mismatch still 400.
	e.problem(e.end(q, late, nil), http.StatusNotFound, "not_found")
	requireFields(t, e.problem(e.end(p, late, &two), http.StatusBadRequest, "validation_failed"), "level")

	hist = e.search(q, p.Nickname, "")
	if integer(t, hist["total_score"]) != 85 || integer(t, hist["total_count"]) != 2 {
		t.Fatalf("after an expired raid: %v", hist)
	}
	h = object(t, hist["histories"].([]any)[0])
	if id(t, h["id"]) != late || h["status"] != "fail" || integer(t, h["score"]) != 0 || !timestamp(t, h["end_time"]).Equal(deadline) {
		t.Fatalf("expired raid recorded as %v, want fail ending at the deadline %v", h, deadline)
	}
	var status string
	var endTime, dbDeadline time.Time
	if err := e.st.DB.QueryRowContext(context.Background(), `SELECT status, end_time, deadline FROM raids WHERE id = $1`, late).Scan(&status, &endTime, &dbDeadline); err != nil {
		t.Fatal(err)
	}
	if status != "fail" || !endTime.Equal(dbDeadline) {
		t.Fatalf("stored as %s ending %v (deadline %v)", status, endTime, dbDeadline)
	}
	// The raid is free for the next player.
	checkEntered(t, e.expect(e.enter(q, 0), http.StatusCreated), q, 0, limit)
}

func TestEndRaidRace(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p := e.newPlayer("Hammer")
	for round, level := range []int{2, 0} {
		raidID := e.enterOK(p, level)
		const n = 50
		results := make([]response, n)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range n {
			wg.Go(func() {
				start.Wait()
				r, err := e.do(request{Method: http.MethodPatch, Path: endPath(raidID), Token: p.Access, ContentType: "application/json", Body: fmt.Appendf(nil, `{"level":%d}`, level)})
				if err == nil {
					results[i] = r
				}
			})
		}
		start.Done()
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		ok := 0
		for _, r := range results {
			if r.Status == http.StatusOK {
				ok++
				checkEnded(t, e.expect(r, http.StatusOK), p, raidID, level)
				continue
			}
			e.problem(r, http.StatusConflict, "raid_not_in_progress")
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of %d simultaneous ends succeeded", round, ok, n)
		}
	}
	want := int64(levelScores[2] + levelScores[0])
	if got := integer(t, e.search(p, p.Nickname, "")["total_score"]); got != want {
		t.Fatalf("total_score %d, want %d", got, want)
	}
	var stored int64
	if err := e.st.DB.QueryRow(`SELECT total_score FROM users WHERE id = $1`, p.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != want {
		t.Fatalf("users.total_score %d, want %d", stored, want)
	}
	if err := e.st.EnsureRanking(context.Background()); err != nil {
		t.Fatal(err)
	}
	rk := e.expect(e.get("/api/raids/ranking", p.Access), http.StatusOK)
	if mine := object(t, rk["my_ranking"]); integer(t, mine["total_score"]) != want {
		t.Fatalf("ranking total %v, want %d", mine["total_score"], want)
	}
}

// statusKeys are the status members: those of SPEC.md §2 and the queue's (issue 14).
var statusKeys = []string{"can_enter", "entered_user_id", "entered_nickname", "raid_history_id", "deadline", "time_limit",
	"queue_length", "my_queue_position", "reserved_for", "reserved_until"}

func TestRaidStatus(t *testing.T) {
	const limit = 2 * time.Second
	e := newEnv(t, testenv.StackOptions{BossData: shortBoss(t, limit)})
	p, q := e.newPlayer("Inside"), e.newPlayer("Outside")

	free := func() {
		e.t.Helper()
		st := e.expect(e.get("/api/raids/status", q.Access), http.StatusOK)
		requireKeys(t, st, statusKeys...)
		if st["can_enter"] != true || st["entered_user_id"] != nil || st["entered_nickname"] != nil || st["raid_history_id"] != nil || st["deadline"] != nil {
			t.Fatalf("free status %v", st)
		}
		if integer(t, st["time_limit"]) != int64(limit/time.Second) {
			t.Fatalf("time_limit %v, want the boss data's %v", st["time_limit"], limit)
		}
	}
	free()

	res := object(t, e.expect(e.enter(p, 0), http.StatusCreated)["result"])
	for _, viewer := range []*player{p, q} {
		st := e.expect(e.get("/api/raids/status", viewer.Access), http.StatusOK)
		requireKeys(t, st, statusKeys...)
		if st["can_enter"] != false || id(t, st["entered_user_id"]) != p.ID || st["entered_nickname"] != p.Nickname ||
			id(t, st["raid_history_id"]) != id(t, res["id"]) || !timestamp(t, st["deadline"]).Equal(timestamp(t, res["deadline"])) ||
			integer(t, st["time_limit"]) != int64(limit/time.Second) {
			t.Fatalf("busy status %v for raid %v", st, res)
		}
	}
	// The sweeper is off: the deadline alone frees the raid.
	time.Sleep(limit + 200*time.Millisecond)
	free()
	e.expect(e.get("/api/raids/status", p.Access), http.StatusOK)
	checkEntered(t, e.expect(e.enter(q, 2), http.StatusCreated), q, 2, limit)
}
