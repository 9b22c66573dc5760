package ports

import (
	"context"
	"time"
)

// ChartStore answers the charts' questions with exact figures, each read from counters or
// through an index so that its cost follows what the chart shows, not how many raids exist.
// Statuses are judged by the store's clock, as AdminStore judges them. No method returns an
// error besides ErrUnavailable.
type ChartStore interface {
	// RaidHours counts the raids entered in [from, to), both whole UTC hours, by hour of
	// entry, level and status now; rows with no raids are left out.
	RaidHours(ctx context.Context, from, to time.Time) ([]HourCount, error)
	// ActivePlayers counts, for each UTC day in [from, to) (both midnights), the distinct
	// players who entered a raid that day; days without any are left out.
	ActivePlayers(ctx context.Context, from, to time.Time) ([]DayCount, error)
	// TotalScores counts every registered player by total score in at most buckets buckets
	// of the width TotalsWidth gives for the highest total.
	TotalScores(ctx context.Context, buckets int) (Histogram, error)
	// PlayerProgress returns the player's running total of score after every step-th raid of
	// theirs (in the order they played them) and after their last, where step spreads their
	// raids over about points points (see ProgressStep); nil when they have none.
	PlayerProgress(ctx context.Context, userID int64, points int) ([]ProgressPoint, error)
	// PlayerLevels counts the player's raids by level and status now, levels ascending.
	PlayerLevels(ctx context.Context, userID int64) ([]LevelCount, error)
}

// HourCount is the raids of one level entered in one hour.
type HourCount struct {
	Hour  time.Time // the hour's start, UTC
	Level int
	Raids RaidCounts
}

// DayCount is a figure for one UTC day.
type DayCount struct {
	Day time.Time // midnight, UTC
	N   int
}

// LevelCount is the raids of one level.
type LevelCount struct {
	Level int
	Raids RaidCounts
}

// Histogram is players counted in buckets of equal width: bucket i holds the totals in
// [i·Width, (i+1)·Width).
type Histogram struct {
	Width  int64
	Counts []int
}

// ProgressPoint is a player's total after their Seq-th raid.
type ProgressPoint struct {
	Seq   int64
	Total int64
}

// TotalsWidth is the bucket width for totals up to highest in at most buckets buckets: 1, 2
// or 5 times a power of ten, so the bounds read well.
func TotalsWidth(highest int64, buckets int) int64 {
	buckets = max(buckets, 1)
	for w := int64(1); ; w *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if highest/(w*m) < int64(buckets) {
				return w * m
			}
		}
	}
}

// ProgressStep is how many raids apart the points of a player with n raids are, for at most
// points points.
func ProgressStep(n int64, points int) int64 {
	points = max(points, 1)
	return max(1, (n+int64(points)-1)/int64(points))
}
