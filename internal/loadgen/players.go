package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// SeedPassword is the password of every player the seeder and the load generator make. It
// meets the password policy; seeded rows share one Argon2id hash of it (see Seed).
const SeedPassword = "Seed_pass1!"

// SeedCredentials are those of the i-th seeded player (i from 1): the bulk seeder and
// `loadgen -seed` make them, and later runs sign in as them without knowing ids.
func SeedCredentials(i int) Credentials {
	return Credentials{
		Email:    fmt.Sprintf("seed%d@loadgen.bossraid.test", i),
		Nickname: fmt.Sprintf("seed%d", i),
		Password: SeedPassword,
	}
}

// SignUpPlayers registers n new players through the API, workers at a time.
func (c *API) SignUpPlayers(ctx context.Context, n, workers int, log io.Writer) ([]Credentials, error) {
	prefix := runID()
	creds := make([]Credentials, n)
	for i := range creds {
		creds[i] = Credentials{
			Email:    fmt.Sprintf("%sp%d@loadgen.bossraid.test", prefix, i+1),
			Nickname: fmt.Sprintf("%sp%d", prefix, i+1),
			Password: SeedPassword,
		}
	}
	err := forEach(ctx, n, workers, log, "signed up", func(i int) error {
		_, res := c.SignUp(ctx, creds[i])
		if res.Status != http.StatusCreated {
			return fmt.Errorf("sign up %s: %s", creds[i].Email, describe(res))
		}
		return nil
	})
	return creds, err
}

// SignInAll signs every player in, workers at a time, keeping their access tokens.
func (c *API) SignInAll(ctx context.Context, creds []Credentials, workers int, log io.Writer) ([]Player, error) {
	players := make([]Player, len(creds))
	err := forEach(ctx, len(creds), workers, log, "signed in", func(i int) error {
		access, res := c.SignIn(ctx, creds[i])
		if res.Status != http.StatusOK || access == "" {
			return fmt.Errorf("sign in %s: %s", creds[i].Email, describe(res))
		}
		players[i] = Player{Credentials: creds[i], Access: access}
		return nil
	})
	return players, err
}

func describe(r Result) string {
	if r.Err != nil {
		return r.Err.Error()
	}
	body := string(r.Body)
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	return fmt.Sprintf("HTTP %d %s", r.Status, body)
}

// forEach runs fn for 0..n-1 on workers goroutines, stopping at the first error, and
// reports progress every few seconds.
func forEach(ctx context.Context, n, workers int, log io.Writer, verb string, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := make(chan struct{})
	if log != nil {
		go func() {
			t := time.NewTicker(5 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					fmt.Fprintf(log, "loadgen: %s %d/%d players\n", verb, done.Load(), n)
				}
			}
		}()
	}
	for range max(workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(stopProgress)
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if log != nil && n > 0 {
		fmt.Fprintf(log, "loadgen: %s %d players in %s\n", verb, n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
