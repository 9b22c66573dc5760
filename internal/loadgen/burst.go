package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// BurstRound is one round of simultaneous enters.
type BurstRound struct {
	Winners  int // 201 answers: must be exactly 1
	Busy     int // 409 raid_busy
	Other    map[string]int
	Took     time.Duration // from the release of the first request to the last answer
	EndFound bool          // the winner's raid was ended (200)
}

// BurstReport is every round of a burst run.
type BurstReport struct {
	Players int
	Rounds  []BurstRound
	Enter   Phase // latency of every enter of every round
}

// Err reports any round without exactly one winner, any answer other than 201 or 409
// raid_busy, and any winner whose raid could not be ended.
func (b BurstReport) Err() error {
	var errs []error
	for i, r := range b.Rounds {
		if r.Winners != 1 {
			errs = append(errs, fmt.Errorf("round %d: %d players got in, want exactly 1", i+1, r.Winners))
		}
		if len(r.Other) > 0 {
			errs = append(errs, fmt.Errorf("round %d: unexpected answers %v", i+1, r.Other))
		}
		if r.Winners == 1 && !r.EndFound {
			errs = append(errs, fmt.Errorf("round %d: the winner could not end the raid", i+1))
		}
	}
	return errors.Join(errs...)
}

// Print writes the rounds and the enter latencies.
func (b BurstReport) Print(w io.Writer) {
	fmt.Fprintf(w, "burst: %d players enter at the same moment, %d rounds\n", b.Players, len(b.Rounds))
	var slowest time.Duration
	for i, r := range b.Rounds {
		fmt.Fprintf(w, "  round %2d: %d × 201, %d × 409 raid_busy, other %v, all answered in %s\n",
			i+1, r.Winners, r.Busy, r.Other, r.Took.Round(time.Millisecond))
		slowest = max(slowest, r.Took)
	}
	fmt.Fprintf(w, "  slowest round %s\n", slowest.Round(time.Millisecond))
	b.Enter.Print(w)
}

// EnterBurst makes every player send POST /api/raids/enter at the same moment, rounds times;
// each round's winner ends the raid before the next. The raid must be free at the start.
func (c *API) EnterBurst(ctx context.Context, players []Player, rounds, level int) (BurstReport, error) {
	rep := BurstReport{Players: len(players)}
	if len(players) == 0 || rounds < 1 {
		return rep, errors.New("burst: want players and at least one round")
	}
	// Every player's connection is opened first, so the burst measures the server, not dialling.
	if err := c.warmPlayers(ctx, players); err != nil {
		return rep, err
	}
	rec := NewRecorder()
	start := time.Now()
	for range rounds {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Rounds = append(rep.Rounds, c.burstRound(ctx, rec, players, level))
	}
	rep.Enter = rec.Summarize(fmt.Sprintf("enter, %d players at once × %d rounds", len(players), rounds), time.Since(start))
	return rep, nil
}

func (c *API) warmPlayers(ctx context.Context, players []Player) error {
	var wg sync.WaitGroup
	errs := make([]error, len(players))
	for i, p := range players {
		wg.Go(func() {
			r := c.Do(ctx, http.MethodGet, "/api/raids/status", p.Access, nil, true)
			if r.Status != http.StatusOK {
				errs[i] = fmt.Errorf("warm-up status of %s: %s", p.Email, describe(r))
				return
			}
			var st struct {
				CanEnter bool `json:"can_enter"`
			}
			if json.Unmarshal(r.Body, &st) == nil && !st.CanEnter {
				errs[i] = errors.New("burst: someone is inside the raid; wait for it to end")
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *API) burstRound(ctx context.Context, rec *Recorder, players []Player, level int) BurstRound {
	round := BurstRound{Other: map[string]int{}}
	type answer struct {
		id  int64
		res Result
		p   Player
	}
	answers := make([]answer, len(players))
	release := make(chan struct{})
	var ready, wg sync.WaitGroup
	for i, p := range players {
		ready.Add(1)
		wg.Go(func() {
			ready.Done()
			<-release
			id, res := c.Enter(ctx, p.Access, level)
			answers[i] = answer{id, res, p}
		})
	}
	ready.Wait()
	start := time.Now()
	close(release)
	wg.Wait()
	round.Took = time.Since(start)
	for _, a := range answers {
		rec.Record(RouteEnter, a.res)
		switch {
		case a.res.Status == http.StatusCreated:
			round.Winners++
			end := c.End(ctx, a.p.Access, a.id)
			round.EndFound = round.EndFound || end.Status == http.StatusOK
		case a.res.Status == http.StatusConflict && a.res.Code == "raid_busy":
			round.Busy++
		case a.res.Err != nil:
			round.Other["transport: "+ErrClass(a.res.Err)]++
		default:
			round.Other[fmt.Sprintf("%d %s", a.res.Status, a.res.Code)]++
		}
	}
	if len(round.Other) == 0 {
		round.Other = nil
	}
	return round
}
