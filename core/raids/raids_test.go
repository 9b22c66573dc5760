package raids_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
)

var entered = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func raidAt(limit time.Duration) raids.Raid {
	return raids.Raid{
		ID: 7, UserID: 1, Level: 1, LevelScore: 47, Status: raids.StatusInProgress,
		EnterTime: entered, Deadline: raids.Deadline(entered, limit), TimeLimit: limit,
	}
}

func TestInProgressUntilTheDeadline(t *testing.T) {
	r := raidAt(180 * time.Second)
	tests := []struct {
		after time.Duration
		want  bool
	}{
		{0, true},
		{179*time.Second + 999*time.Millisecond, true},
		{180 * time.Second, false}, // in progress while now < deadline
		{181 * time.Second, false},
		{-time.Second, true},
	}
	for _, tt := range tests {
		if got := r.InProgressAt(entered.Add(tt.after)); got != tt.want {
			t.Errorf("InProgressAt(enter+%s) = %v, want %v", tt.after, got, tt.want)
		}
	}
}

func TestAtTurnsAnExpiredRaidIntoAFailedOne(t *testing.T) {
	r := raidAt(2 * time.Second)
	if got := r.At(entered.Add(time.Second)); got.Status != raids.StatusInProgress || got.EndTime != nil {
		t.Fatalf("at 1s: %v %v", got.Status, got.EndTime)
	}
	got := r.At(entered.Add(3 * time.Second))
	if got.Status != raids.StatusFail || got.EndTime == nil || !got.EndTime.Equal(r.Deadline) || got.Score != 0 {
		t.Fatalf("at 3s: status %v, end %v, score %d; want fail at the deadline with 0", got.Status, got.EndTime, got.Score)
	}
	if r.Status != raids.StatusInProgress {
		t.Fatal("At changed its receiver")
	}
	done := r
	end := entered.Add(time.Second)
	done.Status, done.EndTime, done.Score = raids.StatusSuccess, &end, 47
	if got := done.At(entered.Add(time.Hour)); got.Status != raids.StatusSuccess || got.Score != 47 {
		t.Fatal("a cleared raid changed after its deadline")
	}
}

func TestEnd(t *testing.T) {
	level1, level2 := 1, 2
	cleared := raidAt(180 * time.Second)
	clearedEnd := entered.Add(10 * time.Second)
	cleared.Status, cleared.EndTime, cleared.Score = raids.StatusSuccess, &clearedEnd, 47
	tests := []struct {
		name       string
		raid       raids.Raid
		by         int64
		level      *int
		after      time.Duration
		wantErr    error
		wantStatus raids.Status
		wantScore  int
	}{
		{"in time", raidAt(2 * time.Second), 1, nil, time.Second, nil, raids.StatusSuccess, 47},
		{"with its level", raidAt(2 * time.Second), 1, &level1, time.Second, nil, raids.StatusSuccess, 47},
		{"someone else's", raidAt(2 * time.Second), 2, nil, time.Second, raids.ErrNotFound, raids.StatusInProgress, 0},
		{"someone else's, expired", raidAt(2 * time.Second), 2, nil, 3 * time.Second, raids.ErrNotFound, raids.StatusInProgress, 0},
		{"wrong level", raidAt(2 * time.Second), 1, &level2, time.Second, raids.ErrLevelMismatch, raids.StatusInProgress, 0},
		{"wrong level beats expiry", raidAt(2 * time.Second), 1, &level2, 3 * time.Second, raids.ErrLevelMismatch, raids.StatusInProgress, 0},
		{"at the deadline", raidAt(2 * time.Second), 1, nil, 2 * time.Second, raids.ErrExpired, raids.StatusFail, 0},
		{"after the deadline", raidAt(2 * time.Second), 1, nil, 3 * time.Second, raids.ErrExpired, raids.StatusFail, 0},
		{"already cleared", cleared, 1, nil, 20 * time.Second, raids.ErrNotInProgress, raids.StatusSuccess, 47},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := entered.Add(tt.after)
			got, err := tt.raid.End(tt.by, tt.level, now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got.Status != tt.wantStatus || got.Score != tt.wantScore {
				t.Fatalf("got %v score %d, want %v score %d", got.Status, got.Score, tt.wantStatus, tt.wantScore)
			}
			if tt.wantErr == nil && (got.EndTime == nil || !got.EndTime.Equal(now)) {
				t.Fatalf("end time %v, want %v", got.EndTime, now)
			}
		})
	}
	// Ending a failed raid again is still "expired", never a score.
	failed, _ := raidAt(2*time.Second).End(1, nil, entered.Add(5*time.Second))
	again, err := failed.End(1, nil, entered.Add(6*time.Second))
	if !errors.Is(err, raids.ErrExpired) || again.Score != 0 {
		t.Fatalf("second end of a failed raid: %v, score %d", err, again.Score)
	}
}

func TestBusyErrorIsErrBusy(t *testing.T) {
	var err error = &raids.BusyError{UserID: 3, RaidID: 9}
	if !errors.Is(err, raids.ErrBusy) {
		t.Fatal("BusyError is not ErrBusy")
	}
	busy, ok := errors.AsType[*raids.BusyError](err)
	if !ok || busy.UserID != 3 || busy.RaidID != 9 {
		t.Fatal("BusyError lost its details")
	}
}

func TestParseStatus(t *testing.T) {
	for _, s := range []raids.Status{raids.StatusInProgress, raids.StatusSuccess, raids.StatusFail} {
		if got, err := raids.ParseStatus(s.String()); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := raids.ParseStatus("won"); err == nil {
		t.Error("ParseStatus accepted an unknown status")
	}
}

func TestRankIsCompetitionRanking(t *testing.T) {
	got := raids.Rank([]raids.Total{
		{UserID: 4, TotalScore: 47}, {UserID: 1, TotalScore: 85}, {UserID: 3, TotalScore: 47},
		{UserID: 2, TotalScore: 20}, {UserID: 5, TotalScore: 0}, {UserID: 6, TotalScore: 47},
	})
	want := []raids.Standing{
		{UserID: 1, TotalScore: 85, Ranking: 0},
		{UserID: 3, TotalScore: 47, Ranking: 1},
		{UserID: 4, TotalScore: 47, Ranking: 1},
		{UserID: 6, TotalScore: 47, Ranking: 1},
		{UserID: 2, TotalScore: 20, Ranking: 4},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Rank = %+v\nwant %+v", got, want)
	}
	if raids.Rank(nil) == nil || len(raids.Rank(nil)) != 0 {
		t.Fatal("Rank(nil) should be empty, not nil")
	}
}

// TestRankAgainstCounting checks Rank against the definition: a player's ranking is the number
// of players with a strictly higher total.
func TestRankAgainstCounting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := rng.IntN(40)
		totals := make([]raids.Total, n)
		for i := range totals {
			totals[i] = raids.Total{UserID: int64(i + 1), TotalScore: int64(rng.IntN(6)) * 20}
		}
		ranked := raids.Rank(totals)
		for i, s := range ranked {
			var higher int64
			for _, o := range totals {
				if o.TotalScore > s.TotalScore {
					higher++
				}
			}
			if s.Ranking != higher {
				t.Fatalf("round %d: %+v has ranking %d, want %d", round, s, s.Ranking, higher)
			}
			if i > 0 && raids.CompareStandings(ranked[i-1], s) >= 0 {
				t.Fatalf("round %d: out of order at %d", round, i)
			}
			if s.TotalScore <= 0 {
				t.Fatalf("round %d: a player without points is ranked", round)
			}
		}
	}
}

func TestInTop(t *testing.T) {
	if !(raids.Standing{Ranking: 9}).InTop() || (raids.Standing{Ranking: 10}).InTop() {
		t.Fatal("the top is rankings 0 to 9")
	}
}

func TestParseBossData(t *testing.T) {
	d, err := raids.ParseBossData([]byte(raids.DefaultBossDataJSON))
	if err != nil {
		t.Fatal(err)
	}
	if d.TimeLimit != 180*time.Second || len(d.Levels) != 3 || d.TimeLimitSeconds() != 180 {
		t.Fatalf("default data = %+v", d)
	}
	for _, l := range []raids.Level{{Level: 0, Score: 20}, {Level: 1, Score: 47}, {Level: 2, Score: 85}} {
		got, err := d.Level(l.Level)
		if err != nil || got != l {
			t.Errorf("Level(%d) = %v, %v", l.Level, got, err)
		}
	}
	if _, err := d.Level(3); !errors.Is(err, raids.ErrUnknownLevel) {
		t.Errorf("Level(3) err = %v", err)
	}

	bad := map[string]string{
		"not JSON":          `{"bossRaids":`,
		"no raids":          `{"bossRaids":[]}`,
		"no levels":         `{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[]}]}`,
		"duplicate level":   `{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":1,"score":2},{"level":1,"score":3}]}]}`,
		"negative score":    `{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":1,"score":-2}]}]}`,
		"negative level":    `{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":-1,"score":2}]}]}`,
		"zero limit":        `{"bossRaids":[{"bossRaidLimitSeconds":0,"levels":[{"level":1,"score":2}]}]}`,
		"negative limit":    `{"bossRaids":[{"bossRaidLimitSeconds":-5,"levels":[{"level":1,"score":2}]}]}`,
		"missing limit":     `{"bossRaids":[{"levels":[{"level":1,"score":2}]}]}`,
		"trailing data":     raids.DefaultBossDataJSON + `{}`,
		"limit over a day":  `{"bossRaids":[{"bossRaidLimitSeconds":86401,"levels":[{"level":1,"score":2}]}]}`,
		"level is a string": `{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":"1","score":2}]}]}`,
	}
	for name, raw := range bad {
		if _, err := raids.ParseBossData([]byte(raw)); !errors.Is(err, raids.ErrInvalidBossData) {
			t.Errorf("%s: err = %v, want ErrInvalidBossData", name, err)
		}
	}

	unsorted, err := raids.ParseBossData([]byte(`{"bossRaids":[{"bossRaidLimitSeconds":2.5,"levels":[{"level":2,"score":9},{"level":0,"score":1}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if unsorted.Levels[0].Level != 0 || unsorted.TimeLimit != 2500*time.Millisecond {
		t.Fatalf("got %+v", unsorted)
	}
	raw, err := unsorted.MarshalJSON()
	if err != nil || !strings.Contains(string(raw), `"bossRaidLimitSeconds":2.5`) {
		t.Fatalf("MarshalJSON = %s, %v", raw, err)
	}
	back, err := raids.ParseBossData(raw)
	if err != nil || back.TimeLimit != unsorted.TimeLimit || !slices.Equal(back.Levels, unsorted.Levels) {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
}
