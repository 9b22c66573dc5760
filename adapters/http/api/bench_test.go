package api_test

import (
	"fmt"
	"net/http"
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
