package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/testenv"
)

func (e *env) joinQueue(p *player) response {
	e.t.Helper()
	return e.must(request{Method: http.MethodPost, Path: "/api/raids/queue", Token: p.Access})
}

func (e *env) leaveQueue(p *player) response {
	e.t.Helper()
	return e.must(request{Method: http.MethodDelete, Path: "/api/raids/queue", Token: p.Access})
}

func (e *env) status(p *player) map[string]any {
	e.t.Helper()
	st := e.expect(e.get("/api/raids/status", p.Access), http.StatusOK)
	requireKeys(e.t, st, statusKeys...)
	return st
}

func TestRaidQueue(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{QueueTurn: time.Hour})
	inside, first, second, stranger := e.newPlayer("Inside"), e.newPlayer("First"), e.newPlayer("Second"), e.newPlayer("Stranger")

	e.problem(e.joinQueue(first), http.StatusConflict, "raid_free")
	e.problem(e.leaveQueue(first), http.StatusNotFound, "not_queued")
	if st := e.status(first); integer(t, st["queue_length"]) != 0 || st["my_queue_position"] != nil || st["reserved_for"] != nil || st["reserved_until"] != nil {
		t.Fatalf("status with nobody waiting: %v", st)
	}

	raidID := e.enterOK(inside, 1)
	e.problem(e.joinQueue(inside), http.StatusConflict, "already_inside")
	for i, p := range []*player{first, second} {
		m := e.expect(e.joinQueue(p), http.StatusCreated)
		requireKeys(t, m, "is_queued", "my_queue_position", "turn_seconds")
		if m["is_queued"] != true || integer(t, m["my_queue_position"]) != int64(i+1) || integer(t, m["turn_seconds"]) != 3600 {
			t.Fatalf("%s joins: %v", p.Nickname, m)
		}
	}
	e.problem(e.joinQueue(first), http.StatusConflict, "already_queued")
	st := e.status(second)
	if st["can_enter"] != false || integer(t, st["queue_length"]) != 2 || integer(t, st["my_queue_position"]) != 2 || st["reserved_for"] != nil {
		t.Fatalf("status while the raid is busy: %v", st)
	}

	// The raid is cleared: it is First's turn. can_enter keeps its meaning (no raid in progress).
	e.expect(e.end(inside, raidID, nil), http.StatusOK)
	st = e.status(stranger)
	if st["can_enter"] != true || id(t, st["reserved_for"]) != first.ID || st["my_queue_position"] != nil || integer(t, st["queue_length"]) != 2 {
		t.Fatalf("status during First's turn: %v", st)
	}
	until := timestamp(t, st["reserved_until"])
	for _, p := range []*player{stranger, second, inside} {
		m := e.problem(e.enter(p, 0), http.StatusConflict, "raid_reserved")
		if m["is_entered"] != false || id(t, m["reserved_for"]) != first.ID || !timestamp(t, m["reserved_until"]).Equal(until) {
			t.Fatalf("%s refused with %v, want First's turn until %v", p.Nickname, m, until)
		}
	}

	// First leaves during the turn: Second's starts at once.
	if r := e.leaveQueue(first); r.Status != http.StatusNoContent || len(r.Body) != 0 {
		t.Fatalf("leave: %s", r)
	}
	st = e.status(second)
	if id(t, st["reserved_for"]) != second.ID || integer(t, st["my_queue_position"]) != 1 || integer(t, st["queue_length"]) != 1 {
		t.Fatalf("status after the holder left: %v", st)
	}
	e.problem(e.enter(first, 0), http.StatusConflict, "raid_reserved")
	e.enterOK(second, 0)
	st = e.status(second)
	if integer(t, st["queue_length"]) != 0 || st["my_queue_position"] != nil || st["reserved_for"] != nil {
		t.Fatalf("status after the holder entered: %v", st)
	}
}
