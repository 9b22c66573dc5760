package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/bossraid/bossraid/internal/faults"
	"github.com/bossraid/bossraid/internal/loadgen"
)

// Routes as the soak reports them: the API's as loadgen names them, and the web's.
const (
	routeStatus  = loadgen.RouteStatus
	routeRanking = loadgen.RouteRanking
	routeHistory = loadgen.RouteSearch
	routeEnter   = loadgen.RouteEnter
	routeEnd     = loadgen.RouteEnd
	routeSignIn  = loadgen.RouteSignIn
	routeSignUp  = loadgen.RouteSignUp
	routeJoin    = "POST /api/raids/queue"
	routeLeave   = "DELETE /api/raids/queue"
	routeLobby   = "GET / (web)"
	routeRankWeb = "GET /ranking (web)"
	routePlayer  = "GET /players/{nickname} (web)"
	routeWebIn   = "POST /signin (web)"
	routeStream  = "GET /events (live stream)"
	routeStreamE = "GET /events, mid-stream"
)

// gameOutcomes are the answers of each route that are part of the game (a busy raid, a
// throttled sign-in, a raid that ran out), as opposed to failures. Anything else below 500 is
// a violation: the players send only well-formed requests with valid tokens.
var gameOutcomes = map[string][]int{
	routeStatus:  {200},
	routeRanking: {200},
	routeHistory: {200},
	routeEnter:   {201, 409},      // admitted, raid_busy (or raid_reserved with a queue)
	routeEnd:     {200, 409},      // cleared, raid_expired, raid_not_in_progress (a retry of a lost answer)
	routeSignIn:  {200, 429},      // signed in, throttled
	routeSignUp:  {201, 409, 429}, // registered, taken (a retry), throttled
	routeJoin:    {201, 409},      // in line; raid_free, already_queued, already_inside
	routeLeave:   {204, 404},      // left; not_queued (never joined, entered, or a retry of a lost answer)
	routeLobby:   {200},
	routeRankWeb: {200},
	routePlayer:  {200, 303}, // 303: the session was lost (sessions live in Redis or Postgres)
	routeWebIn:   {303, 429}, // signed in and sent on, throttled
	routeStream:  {200},
}

// answer is one request's outcome, API or web.
type answer struct {
	status     int
	code       string // the JSON error code, when there is one
	retryAfter string
	err        error
	body       []byte // a failure's first bytes, for the report
}

func fromResult(r loadgen.Result) answer {
	return answer{status: r.Status, code: r.Code, retryAfter: r.RetryAfter, err: r.Err, body: r.Body}
}

// class is the column an answer is counted in.
func (a answer) class() string {
	switch {
	case a.err != nil:
		return "transport"
	case a.status == http.StatusServiceUnavailable:
		return "503"
	case a.status >= 500:
		return "5xx"
	}
	return fmt.Sprintf("%dxx", a.status/100)
}

// detail is the row an answer is counted in below the table: status and code, or the error.
func (a answer) detail() string {
	if a.err != nil {
		return "transport error: " + loadgen.ErrClass(a.err)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", a.status, a.code))
}

// violation is a broken rule, counted by kind; the first few are kept with their details.
type violation struct {
	rule     string
	count    int
	examples []string
}

// ackedRaid is a raid an enter's 201 admitted.
type ackedRaid struct {
	id      int64
	userID  int64
	level   int
	cleared bool  // an end answered 200
	score   int64 // that 200's score
}

// oracle judges every answer and gathers what the checks need.
type oracle struct {
	tl    *timeline
	start time.Time

	mu         sync.Mutex
	outcomes   map[string]map[string]int // route → class → count
	details    map[string]map[string]int // route → detail → count
	violations map[string]*violation
	raids      map[int64]*ackedRaid
	signups    map[string]int64 // email → id, from each 201
	events     int              // live-lobby events received
	checks     int              // record checks run between faults
	skipped    int              // checks that could not reach Postgres
	seen       map[string]bool  // broken records already reported
}

func newOracle(tl *timeline) *oracle {
	return &oracle{tl: tl, start: time.Now(), outcomes: map[string]map[string]int{},
		details: map[string]map[string]int{}, violations: map[string]*violation{},
		raids: map[int64]*ackedRaid{}, signups: map[string]int64{}, seen: map[string]bool{}}
}

func (o *oracle) violate(rule, example string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.violations[rule]
	if !ok {
		v = &violation{rule: rule}
		o.violations[rule] = v
	}
	v.count++
	if len(v.examples) < 3 {
		v.examples = append(v.examples, fmt.Sprintf("at %.1fs: %s", time.Since(o.start).Seconds(), example))
	}
}

// judge counts one answer of route from instance, sent at sent, and checks it: 5xx only as a
// 503 with Retry-After and a transport error only while a fault explains them, no other 5xx
// ever, and no answer outside the route's game outcomes.
func (o *oracle) judge(route string, instance int, sent time.Time, a answer) {
	answered := time.Now()
	o.mu.Lock()
	if o.outcomes[route] == nil {
		o.outcomes[route], o.details[route] = map[string]int{}, map[string]int{}
	}
	o.outcomes[route][a.class()]++
	o.details[route][a.detail()]++
	o.mu.Unlock()
	where := fmt.Sprintf("%s via instance %d", route, instance)
	switch {
	case a.err != nil:
		if !o.tl.excuses(instance, sent, answered) {
			o.violate("transport error while every process was up", fmt.Sprintf("%s: %v", where, a.err))
		}
	case a.status == http.StatusServiceUnavailable && a.retryAfter == "":
		o.violate("503 without Retry-After", fmt.Sprintf("%s: %s", where, snippet(a.body)))
	case a.status == http.StatusServiceUnavailable:
		if !o.tl.excuses(instance, sent, answered) {
			o.violate("503 while every process was up (and back for longer than the recovery bound)",
				fmt.Sprintf("%s: %s", where, snippet(a.body)))
		}
	case a.status >= 500:
		o.violate("5xx other than 503", fmt.Sprintf("%s: %d %s", where, a.status, snippet(a.body)))
	case !slices.Contains(gameOutcomes[route], a.status):
		o.violate("answer outside the route's game outcomes", fmt.Sprintf("%s: %d %s", where, a.status, snippet(a.body)))
	}
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return fmt.Sprintf("%q", s)
}

func (o *oracle) entered(r *ackedRaid) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.raids[r.id] = r
}

func (o *oracle) cleared(id, score int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if r := o.raids[id]; r != nil {
		r.cleared, r.score = true, score
	}
}

func (o *oracle) signedUp(email string, id int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.signups[email] = id
}

func (o *oracle) streamEvents(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events += n
}

// checkRecords runs every check of the stored records; the fault loop calls it between
// faults (Postgres is up then) and once at the end. A check that cannot reach Postgres is
// counted as skipped, never as passed.
func (o *oracle) checkRecords(ctx context.Context, db *sql.DB, final bool) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := o.tryCheckRecords(ctx, db)
	if err != nil && !errors.As(err, new(*ruleError)) {
		err = o.tryCheckRecords(ctx, db) // a connection killed with Postgres fails once
	}
	var re *ruleError
	switch {
	case errors.As(err, &re):
		for _, v := range re.broken {
			// Each check sees again what the one before saw: count a broken record once.
			o.mu.Lock()
			seen := o.seen[v[0]+"\x00"+v[1]]
			o.seen[v[0]+"\x00"+v[1]] = true
			o.mu.Unlock()
			if !seen {
				o.violate(v[0], v[1])
			}
		}
	case err != nil:
		o.mu.Lock()
		o.skipped++
		o.mu.Unlock()
		if final {
			o.violate("the final check of the records could not run", err.Error())
		}
	}
	o.mu.Lock()
	o.checks++
	o.mu.Unlock()
}

// ruleError carries broken rules as (rule, detail) pairs, as opposed to a query that failed.
type ruleError struct{ broken [][2]string }

func (e *ruleError) Error() string { return fmt.Sprintf("%d broken rules", len(e.broken)) }

// storedRaid is a raid as Postgres holds it.
type storedRaid struct {
	userID, score, levelScore int64
	level                     int
	status                    string
	enter, deadline           time.Time
	end                       sql.NullTime
}

func (o *oracle) tryCheckRecords(ctx context.Context, db *sql.DB) error {
	// What was acknowledged before the queries start must all be in what they read.
	o.mu.Lock()
	acked := make([]ackedRaid, 0, len(o.raids))
	for _, r := range o.raids {
		acked = append(acked, *r)
	}
	emails := slices.Collect(maps.Keys(o.signups))
	o.mu.Unlock()

	var broken [][2]string
	if err := faults.CheckRecords(ctx, db); err != nil {
		if strings.HasPrefix(err.Error(), "check ") { // a query failed, not a rule
			return err
		}
		for line := range strings.SplitSeq(err.Error(), "\n") {
			broken = append(broken, [2]string{"stored records: " + line, line})
		}
	}
	stored, err := storedRaids(ctx, db)
	if err != nil {
		return err
	}
	var users int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email = ANY($1)`, pq.Array(emails)).Scan(&users); err != nil {
		return err
	}
	if signups := len(emails); users != signups {
		broken = append(broken, [2]string{"acknowledged sign-ups missing from Postgres",
			fmt.Sprintf("%d of %d acknowledged sign-ups are stored", users, signups)})
	}
	// Every 201 names a stored raid of that player; every 200 of end a success scored once.
	var spans []span
	for _, a := range acked {
		s, ok := stored[a.id]
		switch {
		case !ok:
			broken = append(broken, [2]string{"acknowledged enter missing from Postgres", fmt.Sprintf("raid %d", a.id)})
			continue
		case s.userID != a.userID || s.level != a.level:
			broken = append(broken, [2]string{"acknowledged enter stored for another player or level",
				fmt.Sprintf("raid %d: 201 for user %d level %d, stored user %d level %d", a.id, a.userID, a.level, s.userID, s.level)})
		}
		if a.cleared && (s.status != "success" || s.score != a.score || s.score != s.levelScore) {
			broken = append(broken, [2]string{"acknowledged clear not stored as one success",
				fmt.Sprintf("raid %d: end answered 200 with score %d, stored %s score %d (level score %d)", a.id, a.score, s.status, s.score, s.levelScore)})
		}
		spans = append(spans, s.span(a.id))
	}
	for _, o := range overlaps(spans) {
		broken = append(broken, [2]string{"two acknowledged raids in progress at once", o})
	}
	line, err := brokenLine(ctx, db)
	if err != nil {
		return err
	}
	broken = append(broken, line...)
	if len(broken) > 0 {
		return &ruleError{broken: broken}
	}
	return nil
}

// brokenLine checks the raid queue as stored, each rule in one statement (one snapshot): the
// line is in the order the joins committed, and entering the raid took the player out of it.
func brokenLine(ctx context.Context, db *sql.DB) ([][2]string, error) {
	var broken [][2]string
	for _, c := range []struct{ rule, query string }{
		{"the line is not in the order its joins committed", `
			SELECT coalesce(string_agg(format('user %s (place %s) joined at %s, before the one ahead', user_id, seq, joined_at), '; '), '')
			FROM (SELECT user_id, seq, joined_at, lag(joined_at) OVER (ORDER BY seq) AS ahead FROM raid_queue) l
			WHERE joined_at < ahead`},
		{"a player still waits in line after entering the raid", `
			SELECT coalesce(string_agg(format('user %s joined at %s, entered raid %s at %s', q.user_id, q.joined_at, r.id, r.enter_time), '; '), '')
			FROM raid_queue q JOIN raids r ON r.user_id = q.user_id AND r.enter_time >= q.joined_at`},
	} {
		var detail string
		if err := db.QueryRowContext(ctx, c.query).Scan(&detail); err != nil {
			return nil, err
		}
		if detail != "" {
			broken = append(broken, [2]string{c.rule, detail})
		}
	}
	return broken, nil
}

func storedRaids(ctx context.Context, db *sql.DB) (map[int64]storedRaid, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, user_id, level, status, score, level_score, enter_time, deadline, end_time FROM raids`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	stored := map[int64]storedRaid{}
	for rows.Next() {
		var id int64
		var r storedRaid
		if err := rows.Scan(&id, &r.userID, &r.level, &r.status, &r.score, &r.levelScore, &r.enter, &r.deadline, &r.end); err != nil {
			return nil, err
		}
		stored[id] = r
	}
	return stored, rows.Err()
}

// span is the time a raid held the door: from its enter until it was cleared or, failing
// that, its deadline passed (an enter after a deadline is fine, swept or not).
type span struct {
	id         int64
	from, till time.Time
}

func (s storedRaid) span(id int64) span {
	till := s.deadline
	if s.status == "success" && s.end.Valid {
		till = s.end.Time
	}
	return span{id, s.enter, till}
}

// overlaps describes every raid that was entered while an earlier one still held the door.
func overlaps(spans []span) []string {
	spans = slices.Clone(spans)
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	var out []string
	var holder span // the raid with the latest end so far
	for i, cur := range spans {
		if i > 0 && cur.from.Before(holder.till) {
			out = append(out, fmt.Sprintf("raid %d entered at %s while raid %d held the raid until %s", cur.id,
				cur.from.Format(time.RFC3339Nano), holder.id, holder.till.Format(time.RFC3339Nano)))
		}
		if i == 0 || cur.till.After(holder.till) {
			holder = cur
		}
	}
	return out
}
