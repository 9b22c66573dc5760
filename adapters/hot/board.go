package hot

import (
	"math/rand/v2"
	"slices"

	"github.com/bossraid/bossraid/core/raids"
)

// board is the whole ranking in memory: every ranked player's total, how many players hold
// each distinct total (to count the players above a total in O(log d)), and the best
// topKept players in ranking order. Totals only rise, so the kept top stays exact: a player
// can only enter it by rising, which board sees.
//
// At 1,000,000 players with ids from a sequence it takes about 8 MiB for the totals (pages
// of 1024 ids) plus 28 bytes per distinct total.
type board struct {
	pages   map[int64]*totalsPage // id >> pageBits → the totals of those ids; 0: not ranked
	counts  countTree
	top     []raids.Standing // Ranking left 0; worked out when read
	players int
}

const (
	pageBits = 10
	topKept  = raids.TopSize
)

type totalsPage [1 << pageBits]int64

func newBoard() *board {
	return &board{pages: map[int64]*totalsPage{}, counts: newCountTree(), top: make([]raids.Standing, 0, topKept+1)}
}

// total returns the player's total, 0 when unranked.
func (b *board) total(userID int64) int64 {
	if p := b.pages[userID>>pageBits]; p != nil {
		return p[userID&(1<<pageBits-1)]
	}
	return 0
}

// raise records a total unless the player already has at least as much.
func (b *board) raise(userID, total int64) {
	if userID <= 0 || total <= 0 {
		return
	}
	p := b.pages[userID>>pageBits]
	if p == nil {
		p = new(totalsPage)
		b.pages[userID>>pageBits] = p
	}
	slot := &p[userID&(1<<pageBits-1)]
	old := *slot
	if total <= old {
		return
	}
	*slot = total
	if old > 0 {
		b.counts.add(old, -1)
	} else {
		b.players++
	}
	b.counts.add(total, 1)
	b.raiseInTop(raids.Standing{UserID: userID, TotalScore: total})
}

func (b *board) raiseInTop(s raids.Standing) {
	if i := slices.IndexFunc(b.top, func(t raids.Standing) bool { return t.UserID == s.UserID }); i >= 0 {
		b.top = slices.Delete(b.top, i, i+1)
	}
	at, _ := slices.BinarySearchFunc(b.top, s, raids.CompareStandings)
	if at >= topKept {
		return
	}
	b.top = slices.Insert(b.top, at, s)
	if len(b.top) > topKept {
		b.top = b.top[:topKept]
	}
}

// read returns the first n players (n ≤ topKept) with their rankings and userID's standing.
func (b *board) read(n int, userID int64) ([]raids.Standing, raids.Standing) {
	top := make([]raids.Standing, min(max(n, 0), len(b.top)))
	for i := range top {
		top[i] = b.top[i]
		if i > 0 && top[i].TotalScore == top[i-1].TotalScore {
			top[i].Ranking = top[i-1].Ranking
		} else {
			top[i].Ranking = int64(i)
		}
	}
	if userID == 0 {
		return top, raids.Standing{}
	}
	mine := raids.Standing{UserID: userID, TotalScore: b.total(userID)}
	if mine.TotalScore > 0 {
		mine.Ranking = b.counts.above(mine.TotalScore)
	}
	return top, mine
}

// countTree counts players per distinct total: a treap keyed by total whose nodes know how
// many players their subtree holds. Nodes are never removed (a total nobody holds any more
// counts 0), so the tree grows only with new distinct totals. Nodes live in parallel slices
// rather than as pointers: 28 bytes each and nothing for the collector to trace.
type countTree struct {
	key         []int64
	count, sum  []int32 // players at key; players in the subtree
	left, right []int32 // -1: none
	prio        []uint32
	root        int32
	rng         *rand.PCG
}

func newCountTree() countTree { return countTree{root: -1, rng: rand.NewPCG(1, 2)} }

func (t *countTree) sumOf(n int32) int64 {
	if n < 0 {
		return 0
	}
	return int64(t.sum[n])
}

// add changes the number of players at key by delta.
func (t *countTree) add(key int64, delta int32) { t.root = t.insert(t.root, key, delta) }

func (t *countTree) insert(n int32, key int64, delta int32) int32 {
	if n < 0 {
		t.key = append(t.key, key)
		t.count, t.sum = append(t.count, delta), append(t.sum, delta)
		t.left, t.right = append(t.left, -1), append(t.right, -1)
		t.prio = append(t.prio, uint32(t.rng.Uint64()))
		return int32(len(t.key) - 1)
	}
	t.sum[n] += delta
	switch {
	case key == t.key[n]:
		t.count[n] += delta
	case key < t.key[n]:
		child := t.insert(t.left[n], key, delta) // the slices may grow: index them after the call
		t.left[n] = child
		if t.prio[child] > t.prio[n] {
			n = t.rotateRight(n)
		}
	default:
		child := t.insert(t.right[n], key, delta)
		t.right[n] = child
		if t.prio[child] > t.prio[n] {
			n = t.rotateLeft(n)
		}
	}
	return n
}

func (t *countTree) rotateRight(n int32) int32 {
	l := t.left[n]
	t.left[n], t.right[l] = t.right[l], n
	t.sum[l] = t.sum[n]
	t.resum(n)
	return l
}

func (t *countTree) rotateLeft(n int32) int32 {
	r := t.right[n]
	t.right[n], t.left[r] = t.left[r], n
	t.sum[r] = t.sum[n]
	t.resum(n)
	return r
}

func (t *countTree) resum(n int32) {
	t.sum[n] = t.count[n] + int32(t.sumOf(t.left[n])+t.sumOf(t.right[n]))
}

// above counts the players whose total is strictly higher than key.
func (t *countTree) above(key int64) int64 {
	var n int64
	for at := t.root; at >= 0; {
		switch {
		case key < t.key[at]:
			n += int64(t.count[at]) + t.sumOf(t.right[at])
			at = t.left[at]
		case key > t.key[at]:
			at = t.right[at]
		default:
			return n + t.sumOf(t.right[at])
		}
	}
	return n
}
