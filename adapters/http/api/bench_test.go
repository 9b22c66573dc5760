package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bossraid/bossraid/internal/testenv"
)

// Benchmarks of whole requests through the real stack; they measure, they assert nothing
// beyond the answers being right.

func BenchmarkRaidStatus(b *testing.B) {
	e := newEnv(b, testenv.StackOptions{})
	p := e.newPlayer("Bencher")
	e.enterOK(p, 0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, err := e.do(request{Method: http.MethodGet, Path: "/api/raids/status", Token: p.Access})
			if err != nil || r.Status != http.StatusOK {
				b.Errorf("status: %v %v", r, err)
				return
			}
		}
	})
}

func BenchmarkRanking(b *testing.B) {
	e := newEnv(b, testenv.StackOptions{})
	var players []*player
	for i := range 20 {
		p := e.newPlayer(fmt.Sprintf("Ranked%d", i))
		e.play(p, i%3)
		players = append(players, p)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			r, err := e.do(request{Method: http.MethodGet, Path: "/api/raids/ranking", Token: players[i%len(players)].Access})
			if err != nil || r.Status != http.StatusOK {
				b.Errorf("ranking: %v %v", r, err)
				return
			}
		}
	})
}

// One player entering and clearing the raid, over and over.
func BenchmarkEnterAndEnd(b *testing.B) {
	e := newEnv(b, testenv.StackOptions{})
	p := e.newPlayer("Grinder")
	level := 1
	for b.Loop() {
		e.play(p, level)
	}
}

// serveInProcess answers GET path as token's player straight through the server's handler
// (middleware, router, use case, JSON), without a network or a client: what the server spends.
func serveInProcess(b *testing.B, e *env, path func(i int) string, token func(i int) string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodGet, path(i), nil)
		req.Header.Set("Authorization", "Bearer "+token(i))
		rec := httptest.NewRecorder()
		e.st.HTTP.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path(i), rec.Code, rec.Body)
		}
	}
}

// BenchmarkHandlers measures the JSON reads in process: the ranking (from memory), the raid
// status, and a player's history page.
func BenchmarkHandlers(b *testing.B) {
	e := newEnv(b, testenv.StackOptions{})
	var players []*player
	for i := range 20 {
		p := e.newPlayer(fmt.Sprintf("Handled%d", i))
		e.play(p, i%3)
		players = append(players, p)
	}
	token := func(i int) string { return players[i%len(players)].Access }
	b.Run("ranking", func(b *testing.B) {
		serveInProcess(b, e, func(int) string { return "/api/raids/ranking" }, token)
	})
	b.Run("status", func(b *testing.B) {
		serveInProcess(b, e, func(int) string { return "/api/raids/status" }, token)
	})
	b.Run("history", func(b *testing.B) {
		serveInProcess(b, e, func(i int) string { return searchPath(players[i%len(players)].Nickname, "") }, token)
	})
}
