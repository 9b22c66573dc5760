package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/bossraid/bossraid/migrations"
)

// ErrSchemaOutdated means the database lacks migrations this binary needs.
var ErrSchemaOutdated = errors.New("database schema is out of date: run `bossraid migrate up`")

func newMigrator(db *sql.DB) (*goose.Provider, error) {
	// A session lock lets several instances start at once without racing on migrations.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
}

// Migrate applies every pending migration and returns the versions it applied.
func Migrate(ctx context.Context, db *sql.DB) ([]int64, error) {
	p, err := newMigrator(db)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// MigrationState is one migration and whether the database has it.
type MigrationState struct {
	Version int64
	Name    string
	Applied bool
}

// MigrationStatus lists every migration this binary knows and whether it is applied.
func MigrationStatus(ctx context.Context, db *sql.DB) ([]MigrationState, error) {
	p, err := newMigrator(db)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	status, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(status))
	for _, s := range status {
		out = append(out, MigrationState{
			Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// CheckSchema returns ErrSchemaOutdated unless every migration is applied.
func CheckSchema(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if current < target {
		return fmt.Errorf("%w (database at version %d, this binary needs %d)", ErrSchemaOutdated, current, target)
	}
	return nil
}
