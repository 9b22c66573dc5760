package web

import (
	"strconv"
	"time"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/views/partial"
)

// The use cases' answers turned into what the views show. Rankings become 1-based here.

func raidPath(id int64) string { return "/raids/" + strconv.FormatInt(id, 10) }

func statusView(st app.RaidStatus, viewer app.Player, now time.Time) partial.Status {
	v := partial.Status{Busy: !st.CanEnter, TimeLimit: st.TimeLimit}
	if r := st.Current; r != nil {
		v.Nickname = r.Nickname
		v.Level = r.Level
		v.Deadline = r.Deadline
		v.Left = r.Deadline.Sub(now)
		v.TimeLimit = r.TimeLimit
		if viewer.ID != 0 && r.UserID == viewer.ID {
			v.Mine = true
			v.RaidPath = raidPath(r.ID)
		}
	}
	return v
}

func enterView(st app.RaidStatus, viewer app.Player, boss raids.BossData) partial.Enter {
	v := partial.Enter{SignedIn: viewer.ID != 0, Busy: !st.CanEnter}
	for _, l := range boss.Levels {
		v.Levels = append(v.Levels, partial.Level{Level: l.Level, Score: l.Score})
	}
	if r := st.Current; r != nil && viewer.ID != 0 && r.UserID == viewer.ID {
		v.Mine = true
		v.RaidPath = raidPath(r.ID)
	}
	return v
}

func rankingView(top []raids.Standing, viewer app.Player) partial.Ranking {
	v := partial.Ranking{Linked: viewer.ID != 0}
	for _, s := range top {
		v.Rows = append(v.Rows, partial.Standing{
			Place: s.Ranking + 1, Nickname: s.Nickname, Total: s.TotalScore,
			Me: viewer.ID != 0 && s.UserID == viewer.ID,
		})
	}
	return v
}

func mineView(rv app.RankingView) partial.Mine {
	v := partial.Mine{Total: rv.MyTotal}
	if rv.Mine != nil {
		v.InRanking = true
		v.Place = rv.Mine.Ranking + 1
	}
	return v
}

func raidView(r raids.Raid, now time.Time) partial.Raid {
	r = r.At(now)
	return partial.Raid{
		ID: r.ID, Path: raidPath(r.ID), Level: r.Level, LevelScore: r.LevelScore,
		Status: r.Status.String(), EnterTime: r.EnterTime, Deadline: r.Deadline, EndTime: r.EndTime,
		Left: r.Deadline.Sub(now), TimeLimit: r.TimeLimit, ScoreGained: r.Score,
	}
}

// withResult adds the player's total and place after a cleared raid.
func withResult(v partial.Raid, rv app.RankingView) partial.Raid {
	m := mineView(rv)
	v.Total, v.InRanking, v.Place = m.Total, m.InRanking, m.Place
	return v
}

// queueView is the line as viewer sees it at now.
func queueView(l raids.Line, st app.RaidStatus, viewer app.Player, now time.Time) partial.Queue {
	v := partial.Queue{
		SignedIn: viewer.ID != 0, Open: !st.CanEnter || len(l.Waiting) > 0,
		Inside: viewer.ID != 0 && st.Current != nil && st.Current.UserID == viewer.ID,
		Length: len(l.Waiting),
	}
	if viewer.ID != 0 {
		v.Position = l.Position(viewer.ID)
	}
	if res := l.Reservation; res != nil {
		v.Until, v.Left = res.Until, res.Until.Sub(now)
		if viewer.ID != 0 && res.UserID == viewer.ID {
			v.MyTurn = true
		} else {
			v.Holder = res.Nickname
		}
	}
	return v
}

// withTurn lets the holder of the queue's turn in and keeps everyone else's buttons disabled
// while it is held.
func withTurn(v partial.Enter, l *raids.Line, viewer app.Player) partial.Enter {
	if l == nil || l.Reservation == nil || v.Busy {
		return v
	}
	if viewer.ID != 0 && l.Reservation.UserID == viewer.ID {
		v.MyTurn = true
	} else {
		v.Reserved, v.Holder = true, l.Reservation.Nickname
	}
	return v
}
