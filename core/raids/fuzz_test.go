package raids_test

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
)

// go test -fuzz FuzzParseBossData ./core/raids — boss raid data never panics the parser, what
// it accepts obeys SPEC.md §1, and writing it back in the original format reads the same.
func FuzzParseBossData(f *testing.F) {
	f.Add([]byte(raids.DefaultBossDataJSON))
	f.Add([]byte(`{"bossRaids":[{"bossRaidLimitSeconds":0.5,"levels":[{"level":3,"score":1},{"level":0,"score":0}]}]}`))
	f.Add([]byte(`{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[{"level":0,"score":20},{"level":0,"score":47}]}]}`))
	f.Add([]byte(`{"bossRaids":[{"bossRaidLimitSeconds":-1,"levels":[]}]}`))
	f.Add([]byte(`{"bossRaids":[]}`))
	f.Add([]byte(`{"bossRaids":[{"bossRaidLimitSeconds":1e308,"levels":[{"level":9223372036854775807,"score":1}]}]} {}`))
	f.Add([]byte(`null`))
	f.Add([]byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := raids.ParseBossData(raw)
		if err != nil {
			return
		}
		// A raid record keeps its limit in microseconds and requires it above zero.
		if d.TimeLimit < time.Microsecond || d.TimeLimit > 24*time.Hour {
			t.Fatalf("accepted a limit of %v", d.TimeLimit)
		}
		if len(d.Levels) == 0 {
			t.Fatal("accepted data without levels")
		}
		for i, l := range d.Levels {
			if l.Level < 0 || l.Score < 0 {
				t.Fatalf("accepted level %+v", l)
			}
			if i > 0 && d.Levels[i-1].Level >= l.Level {
				t.Fatalf("levels not strictly ascending: %+v", d.Levels)
			}
			if got, err := d.Level(l.Level); err != nil || got != l {
				t.Fatalf("Level(%d) = %+v, %v", l.Level, got, err)
			}
		}
		out, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal %+v: %v", d, err)
		}
		back, err := raids.ParseBossData(out)
		if err != nil {
			t.Fatalf("data written back does not read: %v\n%s", err, out)
		}
		// The limit goes through float seconds; a raid keeps it to the microsecond.
		if !slices.Equal(back.Levels, d.Levels) || (back.TimeLimit-d.TimeLimit).Abs() > time.Microsecond {
			t.Fatalf("round trip changed the data: %+v → %s → %+v", d, out, back)
		}
	})
}

// go test -fuzz FuzzRank ./core/raids — competition ranking as SPEC.md §1 defines it: each
// ranking is the number of players with a strictly higher total, in total-then-id order.
func FuzzRank(f *testing.F) {
	f.Add([]byte{10, 1, 5, 2, 5, 3, 0, 4, 1, 5})
	f.Add([]byte{})
	f.Add([]byte{7, 7, 7, 7, 7, 7, 7, 7})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var totals []raids.Total
		seen := map[int64]bool{}
		for i := 0; i+1 < len(raw) && len(totals) < 200; i += 2 {
			id := int64(binary.BigEndian.Uint16([]byte{0, raw[i]})) + 1
			if seen[id] {
				continue
			}
			seen[id] = true
			totals = append(totals, raids.Total{UserID: id, TotalScore: int64(int8(raw[i+1]))})
		}
		ranked := raids.Rank(totals)
		positive := 0
		for _, tt := range totals {
			if tt.TotalScore > 0 {
				positive++
			}
		}
		if len(ranked) != positive {
			t.Fatalf("%d ranked, %d totals above 0", len(ranked), positive)
		}
		for i, s := range ranked {
			var above int64
			for _, tt := range totals {
				if tt.TotalScore > s.TotalScore {
					above++
				}
			}
			if s.Ranking != above {
				t.Fatalf("%+v: ranking %d, %d players are strictly higher", s, s.Ranking, above)
			}
			if i > 0 && raids.CompareStandings(ranked[i-1], s) >= 0 {
				t.Fatalf("out of order: %+v then %+v", ranked[i-1], s)
			}
		}
	})
}
