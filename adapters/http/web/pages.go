package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/media"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/component"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/page"
)

// noScriptQueueRefresh is how often, in seconds, a waiting player's lobby reloads itself
// without JavaScript (the live stream needs it).
const noScriptQueueRefresh = 5

func (web *Web) lobby(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, signedIn, err := web.viewer(r)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	st, err := web.app.Raids.Status(ctx)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	rv, err := web.app.Ranking.Of(ctx, p)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	now := st.Now
	v := page.Lobby{
		Meta:    web.pages.Meta(r, p, i18n.T(ctx, "nav.lobby"), layout.NavLobby),
		Status:  statusView(st, p, now),
		Enter:   enterView(st, p, web.app.Raids.BossData()),
		Ranking: rankingView(rv.Top, p),
	}
	if web.queue != nil {
		l, err := web.queue.Line(ctx)
		if err != nil {
			web.pages.Fail(w, r, p, err)
			return
		}
		q := queueView(l, st, p, now)
		v.Queue, v.Enter = &q, withTurn(v.Enter, &l, p)
		if q.Waiting() {
			v.Meta.RefreshWithoutScript = noScriptQueueRefresh
		}
	}
	if signedIn {
		m := mineView(rv)
		v.Mine = &m
	}
	web.pages.Render(w, r, http.StatusOK, page.LobbyPage(v))
}

func (web *Web) rankingPage(w http.ResponseWriter, r *http.Request) {
	p, signedIn, err := web.viewer(r)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	rv, err := web.app.Ranking.Of(r.Context(), p)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	v := page.Ranking{Meta: web.pages.Meta(r, p, i18n.T(r.Context(), "nav.ranking"), layout.NavRanking), Ranking: rankingView(rv.Top, p)}
	if signedIn {
		m := mineView(rv)
		v.Mine = &m
	}
	web.pages.Render(w, r, http.StatusOK, page.RankingPage(v))
}

// historyPageSize is how many raids a player page lists at a time.
const historyPageSize = 10

func (web *Web) player(w http.ResponseWriter, r *http.Request, p app.Player) {
	pageNo, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || pageNo < 1 {
		pageNo = 1
	}
	nickname := mux.Vars(r)["nickname"]
	h, err := web.app.Raids.PlayerHistory(r.Context(), nickname, (pageNo-1)*historyPageSize, historyPageSize)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	own := h.UserID == p.ID
	nav := ""
	if own {
		nav = layout.NavMe
	}
	v := page.Player{
		Meta:     web.pages.Meta(r, p, h.Nickname, nav),
		Nickname: h.Nickname, AvatarURL: media.ProfileImagePath(h.ProfileImage),
		TotalScore: h.TotalScore, TotalCount: h.TotalCount,
		Page: pageNo, Pages: max(1, (h.TotalCount+historyPageSize-1)/historyPageSize),
		Own: own,
	}
	if h.TotalCount > 0 {
		charts, err := web.app.Raids.PlayerCharts(r.Context(), h.UserID)
		if err != nil {
			web.pages.Fail(w, r, p, err)
			return
		}
		progress := make([]page.ProgressPoint, 0, len(charts.Progress))
		for _, pt := range charts.Progress {
			progress = append(progress, page.ProgressPoint{Seq: pt.Seq, Total: pt.Total})
		}
		levels := make([]component.LevelOutcomes, 0, len(charts.Levels))
		for _, l := range charts.Levels {
			levels = append(levels, component.LevelOutcomes{Level: l.Level, Outcomes: component.Outcomes(l.Raids)})
		}
		v.Progress, v.Outcomes = page.DrawPlayerCharts(r.Context(), progress, levels)
	}
	now := h.Now
	for _, rd := range h.Raids {
		rd = rd.At(now)
		row := page.HistoryRow{
			ID: rd.ID, Level: rd.Level, Status: rd.Status.String(), Score: rd.Score,
			EnterTime: rd.EnterTime, EndTime: rd.EndTime, TimeLimit: rd.TimeLimit,
		}
		if own {
			row.Path = raidPath(rd.ID)
		}
		v.Raids = append(v.Raids, row)
	}
	base := "/players/" + url.PathEscape(h.Nickname) + "?page="
	if pageNo > 1 {
		v.PrevPath = base + strconv.Itoa(min(pageNo-1, v.Pages))
	}
	if pageNo < v.Pages {
		v.NextPath = base + strconv.Itoa(pageNo+1)
	}
	web.pages.Render(w, r, http.StatusOK, page.PlayerPage(v))
}
