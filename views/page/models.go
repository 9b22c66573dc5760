// Package page holds the full pages, each with its view model; handlers fill the models and
// never reach into the templates.
package page

import (
	"time"

	"github.com/bossraid/bossraid/views/component"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/partial"
)

// EventsPath is the server-sent event stream of the live panels.
const EventsPath = "/events"

// Lobby is the home page: who is inside, the levels to enter, the ranking.
type Lobby struct {
	Meta    layout.Meta
	Status  partial.Status
	Enter   partial.Enter
	Queue   *partial.Queue // nil when the server has no queue
	Mine    *partial.Mine  // nil when signed out
	Ranking partial.Ranking
}

// Raid is a raid's page.
type Raid struct {
	Meta layout.Meta
	Raid partial.Raid
}

// Ranking is the ranking page.
type Ranking struct {
	Meta    layout.Meta
	Mine    *partial.Mine // nil when signed out
	Ranking partial.Ranking
}

// HistoryRow is one raid in a player's history.
type HistoryRow struct {
	ID        int64
	Level     int
	Status    string
	Score     int
	EnterTime time.Time
	EndTime   *time.Time
	TimeLimit time.Duration
	Path      string // the raid's page, for the player's own raids
}

// Player is a player's public page.
type Player struct {
	Meta       layout.Meta
	Nickname   string
	AvatarURL  string
	TotalScore int64
	TotalCount int
	Raids      []HistoryRow
	Page       int // 1-based
	Pages      int
	PrevPath   string // "" on the first page
	NextPath   string // "" on the last page
	Own        bool   // the viewer's own page: offers signing out everywhere
	Progress   component.StepChart
	Outcomes   component.BarChart
}

// Error is the friendly page of a failed request.
type Error struct {
	Meta    layout.Meta
	Status  int
	Title   string
	Message string
}

// SignUp is the sign-up page.
type SignUp struct {
	Meta layout.Meta
	Form partial.SignUpForm
}

// SignIn is the sign-in page.
type SignIn struct {
	Meta layout.Meta
	Form partial.SignInForm
}
