package chaos

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what one soak did and found.
type Report struct {
	Options            Options
	Soaked             time.Duration // how long faults were injected
	Faults             []fault
	RankingAgreedAfter time.Duration // after the last fault; -1 when it did not within RankingBound
	Before, After      [2]instanceSample
	Started            [2]time.Duration // when each instance's last process started, from the soak's start
	Outcomes           map[string]map[string]int
	Details            map[string]map[string]int
	Violations         []violation
	Enters, Clears     int // acknowledged
	Signups, Events    int
	Checks, Skipped    int
}

func (r *Report) fill(o *oracle, tl *timeline) {
	for _, f := range tl.all() {
		r.Faults = append(r.Faults, *f)
	}
	r.Outcomes, r.Details = map[string]map[string]int{}, map[string]map[string]int{}
	for k, v := range o.outcomes {
		r.Outcomes[k] = maps.Clone(v)
	}
	for k, v := range o.details {
		r.Details[k] = maps.Clone(v)
	}
	for _, k := range slices.Sorted(maps.Keys(o.violations)) {
		r.Violations = append(r.Violations, *o.violations[k])
	}
	for _, a := range o.raids {
		r.Enters++
		if a.cleared {
			r.Clears++
		}
	}
	r.Signups, r.Events, r.Checks, r.Skipped = len(o.signups), o.events, o.checks, o.skipped
}

// Requests is the number of judged answers.
func (r *Report) Requests() int {
	n := 0
	for _, byClass := range r.Outcomes {
		for _, c := range byClass {
			n += c
		}
	}
	return n
}

// ViolationCount is the number of broken rules, each occurrence counted.
func (r *Report) ViolationCount() int {
	n := 0
	for _, v := range r.Violations {
		n += v.count
	}
	return n
}

// Err is nil when the soak found nothing wrong.
func (r *Report) Err() error {
	if len(r.Violations) == 0 {
		return nil
	}
	var errs []error
	for _, v := range r.Violations {
		errs = append(errs, fmt.Errorf("%d × %s", v.count, v.rule))
	}
	return fmt.Errorf("chaos: %d violations:\n%w", r.ViolationCount(), errors.Join(errs...))
}

var classes = []string{"2xx", "3xx", "4xx", "503", "5xx", "transport"}

// Print writes the report: the faults, the requests by route and outcome, the figures of
// the checks and every violation.
func (r *Report) Print(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "chaos soak: %s of faults (seed %d); 2 instances, %d API players, %d web players, %d live-lobby watchers; raid limit %s\n",
		r.Soaked.Round(time.Second), o.Seed, o.Players, o.WebPlayers, o.Streams, o.RaidLimit)

	fmt.Fprintf(w, "\nfaults injected: %d\n", len(r.Faults))
	type key struct{ target, kind string }
	byKind := map[key][]time.Duration{}
	var recoveries []time.Duration
	for _, f := range r.Faults {
		k := key{f.target.String(), string(f.kind)}
		byKind[k] = append(byKind[k], f.recovered)
		if f.recovered >= 0 {
			recoveries = append(recoveries, f.recovered)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  target\tfault\tcount\tslowest return to service\t")
	keys := slices.SortedFunc(maps.Keys(byKind), func(a, b key) int {
		return strings.Compare(a.target+a.kind, b.target+b.kind)
	})
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t\n", k.target, k.kind, len(byKind[k]), duration(slices.Max(byKind[k])))
	}
	_ = tw.Flush()
	if len(recoveries) > 0 {
		slices.Sort(recoveries)
		fmt.Fprintf(w, "  return to service (process back → both instances ready and reading Postgres): median %s, max %s (bound %s)\n",
			duration(recoveries[len(recoveries)/2]), duration(recoveries[len(recoveries)-1]), RecoveryBound)
	}

	fmt.Fprintf(w, "\nrequests: %d answers judged\n", r.Requests())
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "route\t%s\ttotal\t\n", strings.Join(classes, "\t"))
	for _, route := range slices.Sorted(maps.Keys(r.Outcomes)) {
		total := 0
		var cells []string
		for _, c := range classes {
			n := r.Outcomes[route][c]
			total += n
			cells = append(cells, fmt.Sprint(n))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t\n", route, strings.Join(cells, "\t"), total)
	}
	_ = tw.Flush()
	for _, route := range slices.Sorted(maps.Keys(r.Details)) {
		var parts []string
		for _, d := range slices.Sorted(maps.Keys(r.Details[route])) {
			parts = append(parts, fmt.Sprintf("%d × %s", r.Details[route][d], d))
		}
		fmt.Fprintf(w, "  %s: %s\n", route, strings.Join(parts, ", "))
	}

	fmt.Fprintf(w, "\nraids: %d acknowledged enters, %d acknowledged clears; %d sign-ups; %d live-lobby events received\n",
		r.Enters, r.Clears, r.Signups, r.Events)
	fmt.Fprintf(w, "stored records checked %d times (between faults and at the end), %d could not reach Postgres\n", r.Checks, r.Skipped)
	fmt.Fprintf(w, "ranking (API of both instances and the Redis set) agreed with SQL rank() %s after the last fault (bound %s)\n",
		duration(r.RankingAgreedAfter), RankingBound)
	for i := range r.Before {
		b, a := r.Before[i], r.After[i]
		judged := "judged"
		if r.Started[i] > r.Soaked/2 {
			judged = fmt.Sprintf("not judged: its process started %s into the soak", r.Started[i].Round(time.Second))
		}
		fmt.Fprintf(w, "instance %d (%s): goroutines %d after the warm-up, %d at the end (limit %d); RSS %.1f → %.1f MiB (limit %.1f)\n",
			i, judged, b.goroutines, a.goroutines, goroutineLimit(b.goroutines),
			float64(b.rssKiB)/1024, float64(a.rssKiB)/1024, float64(rssLimitKiB(b.rssKiB))/1024)
	}

	fmt.Fprintf(w, "\nviolations: %d\n", r.ViolationCount())
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  %d × %s\n", v.count, v.rule)
		for _, e := range v.examples {
			fmt.Fprintf(w, "      %s\n", e)
		}
	}
}

func duration(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(time.Millisecond).String()
}
