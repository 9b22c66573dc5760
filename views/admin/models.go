// Package admin holds the admin pages and their view models: every raid with filters and
// keyset pages, players, the boss raid data and the ranking. They sit in the site's layout;
// handlers fill the models and never reach into the templates.
package admin

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/layout"
)

// Paths of the admin pages and actions.
const (
	PathDashboard      = "/admin"
	PathRaids          = "/admin/raids"
	PathRaidsCSV       = "/admin/raids.csv"
	PathTopRaiders     = "/admin/raids/players"
	PathPlayers        = "/admin/players"
	PathBossData       = "/admin/bossdata"
	PathBossDataReload = "/admin/bossdata/reload"
	PathRanking        = "/admin/ranking"
	PathRankingRebuild = "/admin/ranking/rebuild"
)

// RaidPath is the admin page of a raid.
func RaidPath(id int64) string { return PathRaids + "/" + strconv.FormatInt(id, 10) }

// PlayerPath is the admin page of a player.
func PlayerPath(id int64) string { return PathPlayers + "/" + strconv.FormatInt(id, 10) }

// Tabs of the admin navigation.
const (
	TabDashboard = "dashboard"
	TabRaids     = "raids"
	TabPlayers   = "players"
	TabBossData  = "bossdata"
	TabRanking   = "ranking"
)

// Frame is what every admin page has: the site's frame and the current tab.
type Frame struct {
	Meta layout.Meta
	Tab  string
}

// withStylesheet is the frame's meta with the admin stylesheet added to the page head.
func (f Frame) withStylesheet() layout.Meta {
	m := f.Meta
	m.Stylesheets = append(append([]string(nil), m.Stylesheets...), "css/admin.css")
	return m
}

// Counts are raids counted by status.
type Counts struct {
	Total, InProgress, Success, Fail int
}

// Link is a ready-made question and where its answer is; Label is a message id.
type Link struct {
	Label string
	Href  string
}

// Dashboard is the admin overview.
type Dashboard struct {
	Frame
	Players   int
	Raids     Counts // ever
	LastDay   Counts // entered in the last 24 hours
	Inside    *RaidRow
	TimeLimit time.Duration
	Levels    int
	Questions []Link
	Charts    Charts
	Queue     *Queue // nil without the queue
}

// RaidRow is a raid in a table or on its page.
type RaidRow struct {
	ID         int64
	Path       string
	PlayerID   int64
	Nickname   string
	PlayerPath string
	Level      int
	LevelScore int
	Score      int
	Status     string // in_progress, success or fail, as it stands now
	EnterTime  time.Time
	Deadline   time.Time
	EndTime    *time.Time
	TimeLimit  time.Duration
}

// Option is one choice of a select; Label is a message id.
type Option struct {
	Value, Label string
}

// StatusOptions are the raid statuses to filter by.
var StatusOptions = []Option{
	{"", "admin.any"}, {"in_progress", "status.in_progress"}, {"success", "status.success"}, {"fail", "status.fail"},
}

// SortOptions are the raid orders.
var SortOptions = []Option{
	{"newest", "admin.sort.newest"}, {"oldest", "admin.sort.oldest"}, {"score", "admin.sort.score"},
}

// RaidFilterForm is the filter form as typed, with what is wrong with it.
type RaidFilterForm struct {
	Player string
	Exact  bool
	Status string
	Level  string
	From   string // datetime-local, UTC
	To     string
	Sort   string
	Errors map[string]string
	Levels []int // the levels of the boss data, offered in the level select
}

// Query is the form as a query string (without cursor), "" when empty.
func (f RaidFilterForm) Query() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("player", f.Player)
	if f.Exact {
		v.Set("exact", "1")
	}
	set("status", f.Status)
	set("level", f.Level)
	set("from", f.From)
	set("to", f.To)
	if f.Sort != "" && f.Sort != SortOptions[0].Value {
		v.Set("sort", f.Sort)
	}
	return v
}

// WithPlayer is the form narrowed to one player.
func (f RaidFilterForm) WithPlayer(nickname string) RaidFilterForm {
	f.Player, f.Exact = nickname, true
	return f
}

// Href is path with the form's query.
func (f RaidFilterForm) Href(path string) string {
	return WithQuery(path, f.Query())
}

// WithQuery is path?query, or path alone when query is empty.
func WithQuery(path string, q url.Values) string {
	if s := q.Encode(); s != "" {
		return path + "?" + s
	}
	return path
}

// Pager links the neighbouring pages; "" where there is none.
type Pager struct {
	FirstPath string // "" on the first page
	PrevPath  string
	NextPath  string
}

// Raids is the list of every raid.
type Raids struct {
	Frame
	Form           RaidFilterForm
	Rows           []RaidRow
	Pager          Pager
	CSVPath        string
	TopRaidersPath string
	Invalid        bool // the form has errors, so nothing was listed
}

// Raid is one raid's page.
type Raid struct {
	Frame
	Raid            RaidRow
	PlayerRaidsPath string
	Queue           *Queue // the queue now; nil without the queue
}

// RaiderRow is a player with the raids of a selection counted.
type RaiderRow struct {
	Place      int
	Nickname   string
	PlayerPath string
	RaidsPath  string // the selection narrowed to this player
	Counts
}

// TopRaiders is the players with the most raids in a selection.
type TopRaiders struct {
	Frame
	Form      RaidFilterForm
	Rows      []RaiderRow
	RaidsPath string // the selection itself
	Invalid   bool
}

// PlayerRow is a player in the list.
type PlayerRow struct {
	ID         int64
	Path       string
	Nickname   string
	Email      string
	Role       string
	TotalScore int64
	RaidCount  int
	CreatedAt  time.Time
}

// PlayerSortOptions are the player orders.
var PlayerSortOptions = []Option{{"newest", "admin.sort.newest"}, {"total", "admin.sort.total"}}

// Players is the player list with its search.
type Players struct {
	Frame
	Search  string
	Sort    string
	Errors  map[string]string
	Rows    []PlayerRow
	Pager   Pager
	Invalid bool
}

// Player is one player's page.
type Player struct {
	Frame
	Player          PlayerRow
	Phone           string
	AvatarURL       string
	PublicPath      string
	Counts          Counts
	Recent          []RaidRow
	RaidsPath       string
	FailedRaidsPath string
}

// Level is a level of the boss raid data.
type Level struct {
	Level int
	Score int
	Boss  string
}

// BossData is the boss raid data in force with the reload action.
type BossData struct {
	Frame
	TimeLimit time.Duration
	Levels    []Level
	JSON      string
}

// Standing is a place in a ranking, 1-based.
type Standing struct {
	Place      int64
	Nickname   string
	PlayerPath string
	Total      int64
}

// Ranking sets the leaderboard beside the ranking from the database, with the rebuild action.
type Ranking struct {
	Frame
	Database         []Standing
	Leaderboard      []Standing
	LeaderboardError string // why the leaderboard cannot answer, "" when it can
	Agree            bool
}

// RoleLabel is how a player's role ("player", "admin") reads.
func RoleLabel(ctx context.Context, role string) string {
	if role == "player" || role == "admin" {
		return i18n.T(ctx, "role."+role)
	}
	return role
}

// Seconds writes a duration as seconds, with fractions only when there are some.
func Seconds(ctx context.Context, d time.Duration) string {
	return i18n.T(ctx, "unit.seconds", i18n.Args{"N": strconv.FormatFloat(d.Seconds(), 'f', -1, 64)})
}

// Percent is part of whole, rounded, "–" for an empty whole.
func Percent(part, whole int) string {
	if whole == 0 {
		return "–"
	}
	return fmt.Sprintf("%d%%", (part*100+whole/2)/whole)
}

// FormInput is the value of a datetime-local input for t (UTC, to the minute).
func FormInput(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") }

// Queue is the raid queue as an admin sees it: who waits in order, whose turn it is, and the
// turns ever taken and lapsed.
type Queue struct {
	Waiting     []QueueRow // the first ones, in order
	Length      int
	Holder      *QueueRow // whose turn it is, nil when none is held
	Until       time.Time // when the turn held ends
	TurnsTaken  int64
	TurnsLapsed int64
}

// More is how many wait beyond the rows shown.
func (q Queue) More() int { return q.Length - len(q.Waiting) }

// QueueRow is one waiting player.
type QueueRow struct {
	Place      int
	Nickname   string
	PlayerPath string
	JoinedAt   time.Time
}
