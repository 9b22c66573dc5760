package loadgen

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"strings"
)

// PlayerSource says where a run's players come from.
type PlayerSource struct {
	N int // players to use
	// Tokens is how many of them sign in for the token routes (0: all N).
	Tokens int
	// Seed bulk-inserts seed1…seedN into DatabaseURL when the database has none (see Seed);
	// Seeded uses seed players made earlier without touching the database. Otherwise N new
	// players sign up through the API.
	Seed, Seeded bool
	DatabaseURL  string
	Workers      int // simultaneous sign-ups and sign-ins
	Log          io.Writer
}

// PreparePlayers makes or finds the players and signs Tokens of them in (a random choice
// among seeded players, so a ranking run asks about players across the whole table).
func (c *API) PreparePlayers(ctx context.Context, ps PlayerSource) ([]Credentials, []Player, error) {
	if ps.N <= 0 {
		return nil, nil, nil
	}
	if ps.Log == nil {
		ps.Log = io.Discard
	}
	tokens := ps.Tokens
	if tokens <= 0 || tokens > ps.N {
		tokens = ps.N
	}
	var creds []Credentials
	switch {
	case ps.Seed || ps.Seeded:
		if ps.Seed {
			if err := ensureSeedPlayers(ctx, ps); err != nil {
				return nil, nil, err
			}
		}
		creds = make([]Credentials, ps.N)
		for i := range creds {
			creds[i] = SeedCredentials(i + 1)
		}
	default:
		var err error
		if creds, err = c.SignUpPlayers(ctx, ps.N, ps.Workers, ps.Log); err != nil {
			return nil, nil, err
		}
	}
	chosen := creds[:tokens]
	if tokens < len(creds) {
		chosen = make([]Credentials, 0, tokens)
		for _, i := range mrand.Perm(len(creds))[:tokens] {
			chosen = append(chosen, creds[i])
		}
	}
	players, err := c.SignInAll(ctx, chosen, ps.Workers, ps.Log)
	return creds, players, err
}

func ensureSeedPlayers(ctx context.Context, ps PlayerSource) error {
	if ps.DatabaseURL == "" {
		return fmt.Errorf("-seed needs -database-url (or DATABASE_URL)")
	}
	db, err := OpenDB(ctx, ps.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	have, err := SeededPlayers(ctx, db)
	switch {
	case err != nil:
		return err
	case have >= ps.N:
		fmt.Fprintf(ps.Log, "loadgen: using %d of the %d seed players already in the database\n", ps.N, have)
		return nil
	case have > 0:
		return fmt.Errorf("the database holds %d seed players, fewer than -players %d; seed a fresh database", have, ps.N)
	}
	rep, err := Seed(ctx, db, SeedOptions{Players: ps.N, Log: ps.Log})
	if err != nil {
		return err
	}
	rep.Print(ps.Log)
	return nil
}

// LoadAverage is /proc/loadavg's first three figures, to note beside measurements.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}
