package raids

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Level is one difficulty of the boss raid and the score it is worth when cleared.
type Level struct {
	Level int `json:"level"`
	Score int `json:"score"`
}

// BossData is the "static data" of the boss raid: its time limit and its levels.
type BossData struct {
	TimeLimit time.Duration
	Levels    []Level // in ascending level order
}

// DefaultBossDataJSON is the built-in boss raid data, in the original service's format.
const DefaultBossDataJSON = `{"bossRaids":[{"bossRaidLimitSeconds":180,
  "levels":[{"level":0,"score":20},{"level":1,"score":47},{"level":2,"score":85}]}]}`

// DefaultBossData returns the built-in data.
func DefaultBossData() BossData {
	d, err := ParseBossData([]byte(DefaultBossDataJSON))
	if err != nil {
		panic("built-in boss data is invalid: " + err.Error())
	}
	return d
}

// ErrInvalidBossData wraps every reason boss raid data is refused.
var ErrInvalidBossData = errors.New("invalid boss raid data")

type bossDataFile struct {
	BossRaids []struct {
		LimitSeconds *float64 `json:"bossRaidLimitSeconds"`
		Levels       []Level  `json:"levels"`
	} `json:"bossRaids"`
}

// ParseBossData reads and validates data in the original format; only the first boss raid is used.
func ParseBossData(raw []byte) (BossData, error) {
	var f bossDataFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&f); err != nil {
		return BossData{}, fmt.Errorf("%w: not JSON in the bossRaids format: %v", ErrInvalidBossData, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return BossData{}, fmt.Errorf("%w: unexpected data after the JSON document", ErrInvalidBossData)
	}
	if len(f.BossRaids) == 0 {
		return BossData{}, fmt.Errorf("%w: bossRaids is empty", ErrInvalidBossData)
	}
	raid := f.BossRaids[0]
	if raid.LimitSeconds == nil || *raid.LimitSeconds <= 0 {
		return BossData{}, fmt.Errorf("%w: bossRaidLimitSeconds must be greater than 0", ErrInvalidBossData)
	}
	if *raid.LimitSeconds > 24*60*60 {
		return BossData{}, fmt.Errorf("%w: bossRaidLimitSeconds must be at most one day", ErrInvalidBossData)
	}
	d := BossData{TimeLimit: time.Duration(*raid.LimitSeconds * float64(time.Second))}
	if d.TimeLimit < time.Millisecond {
		return BossData{}, fmt.Errorf("%w: bossRaidLimitSeconds must be at least 0.001", ErrInvalidBossData)
	}
	if len(raid.Levels) == 0 {
		return BossData{}, fmt.Errorf("%w: levels is empty", ErrInvalidBossData)
	}
	seen := map[int]bool{}
	for _, l := range raid.Levels {
		switch {
		case seen[l.Level]:
			return BossData{}, fmt.Errorf("%w: level %d appears twice", ErrInvalidBossData, l.Level)
		case l.Level < 0:
			return BossData{}, fmt.Errorf("%w: level %d is negative", ErrInvalidBossData, l.Level)
		case l.Score < 0:
			return BossData{}, fmt.Errorf("%w: level %d has a negative score", ErrInvalidBossData, l.Level)
		}
		seen[l.Level] = true
		d.Levels = append(d.Levels, l)
	}
	slices.SortFunc(d.Levels, func(a, b Level) int { return cmp.Compare(a.Level, b.Level) })
	return d, nil
}

// Level returns the level numbered n, or ErrUnknownLevel.
func (d BossData) Level(n int) (Level, error) {
	for _, l := range d.Levels {
		if l.Level == n {
			return l, nil
		}
	}
	return Level{}, ErrUnknownLevel
}

// TimeLimitSeconds is the limit as the API reports it.
func (d BossData) TimeLimitSeconds() int {
	return int(d.TimeLimit / time.Second)
}

// MarshalJSON writes the data back in the original format.
func (d BossData) MarshalJSON() ([]byte, error) {
	type raid struct {
		LimitSeconds float64 `json:"bossRaidLimitSeconds"`
		Levels       []Level `json:"levels"`
	}
	return json.Marshal(struct {
		BossRaids []raid `json:"bossRaids"`
	}{[]raid{{d.TimeLimit.Seconds(), d.Levels}}})
}
