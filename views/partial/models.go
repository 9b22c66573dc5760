// Package partial holds the fragments that are swapped in place: the live lobby panels (sent
// over server-sent events), the raid panel and the sign-up and sign-in forms (answered alone
// to htmx requests, inside their page otherwise).
package partial

import (
	"context"
	"time"

	"github.com/bossraid/bossraid/i18n"
)

// Status is who, if anyone, is inside the boss raid.
type Status struct {
	Busy      bool
	Nickname  string // who is inside
	Mine      bool   // the viewer is the one inside
	RaidPath  string // the viewer's raid page, when Mine
	Level     int
	Deadline  time.Time
	Left      time.Duration // time left when rendered
	TimeLimit time.Duration // the limit a new raid would get, when free
}

// Where the queue's forms post: joining, and leaving (forms cannot send DELETE).
const (
	QueuePath      = "/raids/queue"
	QueueLeavePath = "/raids/queue/leave"
)

// Queue is the line for the raid as one viewer sees it.
type Queue struct {
	SignedIn bool
	Open     bool // the raid is busy or someone waits: joining the line makes sense
	Inside   bool // the viewer is inside the raid
	Length   int
	Position int  // the viewer's place, 1 for the head; 0 when not waiting
	MyTurn   bool // the viewer alone may enter, until Until
	// Holder is who holds the turn when it is someone else's ("" when no turn is held).
	Holder string
	Until  time.Time     // when the turn held ends
	Left   time.Duration // time left of the turn when rendered
	Error  string        // why the last join or leave was refused
}

// Waiting reports whether the viewer is in the line.
func (q Queue) Waiting() bool { return q.Position > 0 }

// Level is one level a player can enter.
type Level struct {
	Level int
	Score int
}

// Enter offers a button per level, or says why not.
type Enter struct {
	SignedIn bool
	Busy     bool
	Mine     bool   // the viewer is inside
	RaidPath string // the viewer's raid page, when Mine
	Levels   []Level
	Error    string // why the last attempt was refused
	// The raid queue's turn: MyTurn lets the viewer in while it is held; Reserved (someone
	// else's turn, named by Holder) keeps the buttons disabled.
	MyTurn   bool
	Reserved bool
	Holder   string
}

// Standing is one row of the ranking; Place is 1-based.
type Standing struct {
	Place    int64
	Nickname string
	Total    int64
	Me       bool
}

// Ranking is the top 10.
type Ranking struct {
	Rows []Standing
	// Linked links nicknames to player pages (which need a sign-in).
	Linked bool
}

// Mine is the viewer's own standing.
type Mine struct {
	Total     int64
	InRanking bool
	Place     int64 // 1-based, when InRanking
}

// Raid statuses as the raid panel shows them.
const (
	RaidInProgress = "in_progress"
	RaidSuccess    = "success"
	RaidFail       = "fail"
)

// Raid is one raid on its page: running with its countdown, or ended with its result.
type Raid struct {
	ID         int64
	Path       string // the raid page, which also answers the panel alone to htmx
	Level      int
	LevelScore int
	Status     string
	EnterTime  time.Time
	Deadline   time.Time
	EndTime    *time.Time
	Left       time.Duration
	TimeLimit  time.Duration
	// The result, when the raid succeeded.
	ScoreGained int
	Total       int64
	InRanking   bool
	Place       int64
	// Notice explains a refused clear (too late, already cleared).
	Notice string
}

// SignUpForm is the sign-up form with what was typed and what is wrong with it.
type SignUpForm struct {
	Email     string
	Nickname  string
	Phone     string
	Errors    map[string]string
	FormError string
}

// SignInForm is the sign-in form.
type SignInForm struct {
	Email     string
	Next      string // where to go after signing in
	Errors    map[string]string
	FormError string
}

// firstError is the first field at fault, in the order of the form.
func (f SignUpForm) firstError() string {
	for _, name := range []string{"email", "nickname", "password", "phone", "profile_image"} {
		if f.Errors[name] != "" {
			return name
		}
	}
	return ""
}

// fieldError is a field's error in the request's language (the core writes them in English).
func fieldError(ctx context.Context, errs map[string]string, name string) string {
	return i18n.From(ctx).Detail(errs[name])
}
