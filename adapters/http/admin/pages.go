package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/media"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/ports"
	views "github.com/bossraid/bossraid/views/admin"
	"github.com/bossraid/bossraid/views/component"
)

func (h *Admin) dashboard(w http.ResponseWriter, r *http.Request, p app.Player) {
	d, err := h.app.Admin.Dashboard(r.Context(), p)
	if err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	v := views.Dashboard{
		Players: d.Players, Raids: counts(d.Raids), LastDay: counts(d.LastDay),
		TimeLimit: d.Boss.TimeLimit, Levels: len(d.Boss.Levels), Questions: questions(d.Now),
	}
	if cur := d.Status.Current; cur != nil {
		row := raidRow(*cur)
		v.Inside = &row
	}
	charts, err := h.app.Admin.Charts(r.Context(), p)
	if err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	v.Charts = views.DrawCharts(r.Context(), chartFigures(charts))
	if v.Queue, err = h.queueNow(r); err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	v.Frame = h.frame(r, p, i18n.T(r.Context(), "nav.admin"), views.TabDashboard)
	h.pages.Render(w, r, http.StatusOK, views.DashboardPage(v))
}

// chartFigures is what the overview's charts show, as the view takes it.
func chartFigures(c app.AdminCharts) views.ChartFigures {
	f := views.ChartFigures{TotalsWidth: c.Totals.Width, Totals: c.Totals.Counts}
	for _, h := range c.Hours {
		f.Hours = append(f.Hours, views.HourOutcomes{Hour: h.Hour, Outcomes: component.Outcomes(h.Raids)})
	}
	for _, l := range c.Levels {
		f.Levels = append(f.Levels, component.LevelOutcomes{Level: l.Level, Outcomes: component.Outcomes(l.Raids)})
	}
	for _, d := range c.Active {
		f.Active = append(f.Active, views.DayFigure{Day: d.Day, N: d.N})
	}
	return f
}

// questions are what admins ask most, each answered by one page.
func questions(now time.Time) []views.Link {
	now = now.UTC().Truncate(time.Minute)
	week, day := views.FormInput(now.Add(-7*24*time.Hour)), views.FormInput(now.Add(-24*time.Hour))
	q := func(path string, kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return views.WithQuery(path, v)
	}
	return []views.Link{
		{Label: "admin.q.failed_week", Href: q(views.PathTopRaiders, "status", "fail", "from", week)},
		{Label: "admin.q.played_day", Href: q(views.PathTopRaiders, "from", day)},
		{Label: "admin.q.failed_raids_week", Href: q(views.PathRaids, "status", "fail", "from", week)},
		{Label: "admin.q.best_scores", Href: q(views.PathRaids, "sort", "score")},
		{Label: "admin.q.inside", Href: q(views.PathRaids, "status", "in_progress")},
		{Label: "admin.q.highest_total", Href: q(views.PathPlayers, "sort", "total")},
	}
}

// A player cursor is "<total score>_<id>".
func formatPlayerKey(k ports.PlayerKey) string { return fmt.Sprintf("%d_%d", k.TotalScore, k.ID) }

func parsePlayerKey(s string) (*ports.PlayerKey, error) {
	if s == "" {
		return nil, nil
	}
	total, id, ok := strings.Cut(s, "_")
	t, err1 := strconv.ParseInt(total, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || errors.Join(err1, err2) != nil || n <= 0 {
		return nil, errors.New("bad cursor")
	}
	return &ports.PlayerKey{TotalScore: t, ID: n}, nil
}

func (h *Admin) players(w http.ResponseWriter, r *http.Request, p app.Player) {
	q := r.URL.Query()
	v := views.Players{Search: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Errors: map[string]string{}}
	lq := app.PlayerListQuery{Search: v.Search, Order: ports.PlayersNewestFirst}
	if v.Sort != "" {
		o, err := ports.ParsePlayerOrder(v.Sort)
		if err != nil {
			v.Errors["sort"] = "Choose an order from the list."
		}
		lq.Order = o
	}
	v.Sort = lq.Order.String()
	var err1, err2, err3 error
	lq.After, err1 = parsePlayerKey(q.Get("after"))
	lq.Before, err2 = parsePlayerKey(q.Get("before"))
	if raw := q.Get("limit"); raw != "" {
		lq.Limit, err3 = strconv.Atoi(raw)
	}
	if errors.Join(err1, err2, err3) != nil {
		v.Errors["page"] = "This page link is broken; start again from the first page."
	}
	status := http.StatusOK
	if len(v.Errors) == 0 {
		list, err := h.app.Admin.ListPlayers(r.Context(), p, lq)
		if err != nil && !fieldErrors(err, v.Errors) {
			h.pages.Fail(w, r, p, err)
			return
		}
		for _, row := range list.Players {
			v.Rows = append(v.Rows, playerRow(row.User, row.RaidCount))
		}
		base := url.Values{}
		if v.Search != "" {
			base.Set("q", v.Search)
		}
		if lq.Order != ports.PlayersNewestFirst {
			base.Set("sort", lq.Order.String())
		}
		if lq.Limit != 0 {
			base.Set("limit", strconv.Itoa(lq.Limit))
		}
		link := func(k string, key *ports.PlayerKey) string {
			if key == nil {
				return ""
			}
			q := maps.Clone(base)
			q.Set(k, formatPlayerKey(*key))
			return views.WithQuery(views.PathPlayers, q)
		}
		v.Pager = views.Pager{PrevPath: link("before", list.Prev), NextPath: link("after", list.Next)}
		if lq.After != nil || lq.Before != nil {
			v.Pager.FirstPath = views.WithQuery(views.PathPlayers, base)
		}
	}
	if len(v.Errors) > 0 {
		status, v.Invalid = http.StatusBadRequest, true
	}
	v.Frame = h.frame(r, p, i18n.T(r.Context(), "admin.tab.players"), views.TabPlayers)
	h.pages.Render(w, r, status, views.PlayersPage(v))
}

func playerRow(u users.User, raidCount int) views.PlayerRow {
	return views.PlayerRow{
		ID: u.ID, Path: views.PlayerPath(u.ID), Nickname: u.Nickname, Email: u.Email, Role: u.Role.String(),
		TotalScore: u.TotalScore, RaidCount: raidCount, CreatedAt: u.CreatedAt,
	}
}

func (h *Admin) player(w http.ResponseWriter, r *http.Request, p app.Player) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		h.pages.Fail(w, r, p, users.ErrNotFound)
		return
	}
	d, err := h.app.Admin.PlayerDetail(r.Context(), p, id)
	if err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	v := views.Player{
		Player: playerRow(d.User, d.Raids.Total()), Phone: d.User.Phone,
		AvatarURL: media.ProfileImagePath(d.User.ProfileImage), PublicPath: component.PlayerPath(d.User.Nickname),
		Counts: counts(d.Raids),
	}
	for _, raid := range d.Recent {
		v.Recent = append(v.Recent, raidRow(raid))
	}
	mine := views.RaidFilterForm{}.WithPlayer(d.User.Nickname)
	v.RaidsPath = mine.Href(views.PathRaids)
	mine.Status = raids.StatusFail.String()
	v.FailedRaidsPath = mine.Href(views.PathRaids)
	v.Frame = h.frame(r, p, d.User.Nickname, views.TabPlayers)
	h.pages.Render(w, r, http.StatusOK, views.PlayerPage(v))
}

func (h *Admin) bossData(w http.ResponseWriter, r *http.Request, p app.Player) {
	d, err := h.app.Admin.BossData(p)
	if err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	v := views.BossData{TimeLimit: d.TimeLimit}
	for _, l := range d.Levels {
		v.Levels = append(v.Levels, views.Level{Level: l.Level, Score: l.Score, Boss: component.BossName(r.Context(), l.Level)})
	}
	if raw, err := d.MarshalJSON(); err == nil {
		var pretty strings.Builder
		var doc any
		if json.Unmarshal(raw, &doc) == nil {
			enc := json.NewEncoder(&pretty)
			enc.SetIndent("", "  ")
			_ = enc.Encode(doc)
		}
		v.JSON = pretty.String()
	}
	v.Frame = h.frame(r, p, i18n.T(r.Context(), "admin.tab.bossdata"), views.TabBossData)
	h.pages.Render(w, r, http.StatusOK, views.BossDataPage(v))
}

// reloadBossData reloads and says how it went; a refused reload shows why, and the page still
// shows the data in force.
func (h *Admin) reloadBossData(w http.ResponseWriter, r *http.Request, p app.Player) {
	d, err := h.app.Admin.ReloadBossData(r.Context(), p)
	switch {
	case errors.Is(err, app.ErrForbidden):
		h.pages.Fail(w, r, p, err)
		return
	case err != nil:
		h.log.WarnContext(r.Context(), "boss data reload refused", "err", err)
		h.pages.Flash(r, "error", i18n.T(r.Context(), "admin.flash.reload_failed", i18n.Args{"Error": err.Error()}))
	default:
		h.pages.Flash(r, "success", i18n.N(r.Context(), "admin.flash.reloaded", len(d.Levels), i18n.Args{"Limit": views.Seconds(r.Context(), d.TimeLimit)}))
	}
	http.Redirect(w, r, views.PathBossData, http.StatusSeeOther)
}

func (h *Admin) ranking(w http.ResponseWriter, r *http.Request, p app.Player) {
	c, err := h.app.Admin.RankingCheck(r.Context(), p)
	if err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	v := views.Ranking{Database: standings(c.Database), Leaderboard: standings(c.Leaderboard), Agree: c.Agree}
	if c.LeaderboardErr != nil {
		v.LeaderboardError = problem.From(c.LeaderboardErr).Detail
		if errors.Is(c.LeaderboardErr, raids.ErrNotRanked) {
			v.LeaderboardError = i18n.T(r.Context(), "admin.ranking.missing")
		}
	}
	v.Frame = h.frame(r, p, i18n.T(r.Context(), "nav.ranking"), views.TabRanking)
	h.pages.Render(w, r, http.StatusOK, views.RankingPage(v))
}

func standings(top []raids.Standing) []views.Standing {
	out := make([]views.Standing, len(top))
	for i, s := range top {
		out[i] = views.Standing{Place: s.Ranking + 1, Nickname: s.Nickname, PlayerPath: views.PlayerPath(s.UserID), Total: s.TotalScore}
	}
	return out
}

func (h *Admin) rebuildRanking(w http.ResponseWriter, r *http.Request, p app.Player) {
	res, err := h.app.Admin.RebuildRanking(r.Context(), p)
	switch {
	case errors.Is(err, app.ErrForbidden):
		h.pages.Fail(w, r, p, err)
		return
	case err != nil:
		prob := problem.From(err)
		problem.Log(r, h.log, prob, err)
		h.pages.Flash(r, "error", i18n.T(r.Context(), "admin.flash.rebuild_failed", i18n.Args{"Error": i18n.From(r.Context()).Detail(prob.Detail)}))
	default:
		h.pages.Flash(r, "success", i18n.N(r.Context(), "admin.flash.rebuilt", res.Players,
			i18n.Args{"Took": res.Took.Round(time.Microsecond).String()}))
	}
	http.Redirect(w, r, views.PathRanking, http.StatusSeeOther)
}
