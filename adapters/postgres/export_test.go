package postgres

import (
	"context"
	"database/sql"

	"github.com/bossraid/bossraid/ports"
)

// DBError lets the external tests check the one place driver errors are mapped.
var DBError = dbError

// CountRaidsByScan is CountRaids answered by scanning the raids, whatever the filter: the
// oracle for the counters.
func (s *Admin) CountRaidsByScan(ctx context.Context, f ports.RaidFilter) (ports.RaidCounts, error) {
	return s.countByScan(ctx, f)
}

// CeilHour and FloorHour number hours as bossraid_raid_hour does.
var CeilHour, FloorHour = ceilHour, floorHour

// NewAdminMergingAtMost is NewAdmin merging per-player pages for prefixes matching at most n
// players (-1: never).
func NewAdminMergingAtMost(db *sql.DB, n int) *Admin { return &Admin{db: db, mergePlayers: n} }
