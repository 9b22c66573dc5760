package raids

import (
	"cmp"
	"slices"
)

// TopSize is how many players the ranking shows; a player is "in the ranking" below it.
const TopSize = 10

// Standing is a player's place in the ranking. Ranking is 0-based competition ranking:
// the number of players with a strictly higher total.
type Standing struct {
	UserID     int64
	Nickname   string
	TotalScore int64
	Ranking    int64
}

// InTop reports whether the standing is shown as "in the ranking".
func (s Standing) InTop() bool { return s.Ranking < TopSize }

// Total is a player's total score, the input of the ranking.
type Total struct {
	UserID     int64
	TotalScore int64
}

// Rank orders totals (total descending, then user id ascending), drops totals of 0 or less
// and gives each its competition ranking: ties share a ranking and the next one skips (0,1,1,3).
func Rank(totals []Total) []Standing {
	ranked := make([]Standing, 0, len(totals))
	for _, t := range totals {
		if t.TotalScore > 0 {
			ranked = append(ranked, Standing{UserID: t.UserID, TotalScore: t.TotalScore})
		}
	}
	slices.SortFunc(ranked, CompareStandings)
	for i := range ranked {
		if i > 0 && ranked[i].TotalScore == ranked[i-1].TotalScore {
			ranked[i].Ranking = ranked[i-1].Ranking
		} else {
			ranked[i].Ranking = int64(i)
		}
	}
	return ranked
}

// CompareStandings is the order of the ranking list: total descending, then user id ascending.
func CompareStandings(a, b Standing) int {
	if c := cmp.Compare(b.TotalScore, a.TotalScore); c != 0 {
		return c
	}
	return cmp.Compare(a.UserID, b.UserID)
}
