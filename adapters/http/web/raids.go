package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/htmlpage"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/component"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/page"
	"github.com/bossraid/bossraid/views/partial"
)

// enter puts the player inside the raid at the level of the button pressed.
func (web *Web) enter(w http.ResponseWriter, r *http.Request, p app.Player) {
	w.Header().Add("Vary", "HX-Request")
	ctx := r.Context()
	level, err := strconv.Atoi(r.PostFormValue("level"))
	if err != nil {
		web.refuseEntry(w, r, p, app.Invalid("level", "choose a level"))
		return
	}
	rd, err := web.app.Raids.EnterRaid(ctx, p, level)
	if err != nil {
		web.refuseEntry(w, r, p, err)
		return
	}
	htmlpage.Redirect(w, r, raidPath(rd.ID))
}

// refuseEntry says why the player could not enter: in the lobby's enter panel for htmx, as a
// message on the lobby otherwise.
func (web *Web) refuseEntry(w http.ResponseWriter, r *http.Request, p app.Player, err error) {
	prob := problem.From(err)
	var message string
	switch busy, isBusy := errors.AsType[*raids.BusyError](err); {
	case isBusy && busy.UserID == p.ID:
		web.pages.Flash(r, "info", i18n.T(r.Context(), "flash.already_inside"))
		htmlpage.Redirect(w, r, raidPath(busy.RaidID))
		return
	case isBusy:
		message = i18n.T(r.Context(), "enter.busy")
		if st, serr := web.app.Raids.Status(r.Context()); serr == nil && st.Current != nil {
			message = i18n.T(r.Context(), "enter.busy_named", i18n.Args{"Nickname": st.Current.Nickname})
		}
	case errors.Is(err, raids.ErrReserved):
		message = i18n.From(r.Context()).Detail(prob.Detail)
	case prob.Status == http.StatusBadRequest:
		message = i18n.T(r.Context(), "enter.no_level")
	default:
		web.pages.Fail(w, r, p, err)
		return
	}
	if !htmlpage.IsHTMX(r) {
		web.pages.Flash(r, "error", message)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	st, serr := web.app.Raids.Status(r.Context())
	if serr != nil {
		web.pages.Fail(w, r, p, serr)
		return
	}
	v := enterView(st, p, web.app.Raids.BossData())
	if web.queue != nil {
		if l, lerr := web.queue.Line(r.Context()); lerr == nil {
			v = withTurn(v, &l, p)
		}
	}
	v.Error = message
	web.pages.Render(w, r, prob.Status, partial.EnterPanel(v))
}

// raid shows a raid to its player: the whole page, or the panel alone to htmx (which fetches it
// again when the countdown reaches the deadline).
func (web *Web) raid(w http.ResponseWriter, r *http.Request, p app.Player) {
	w.Header().Add("Vary", "HX-Request")
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		web.pages.Fail(w, r, p, raids.ErrNotFound)
		return
	}
	rd, err := web.app.Raids.Raid(r.Context(), p, id)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	v, err := web.raidResult(r, p, rd.Raid, rd.Now, "")
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	if htmlpage.IsHTMX(r) {
		web.pages.Render(w, r, http.StatusOK, partial.RaidPanel(v))
		return
	}
	title := component.BossName(r.Context(), rd.Level)
	web.pages.Render(w, r, http.StatusOK, page.RaidPage(page.Raid{Meta: web.pages.Meta(r, p, title, layout.NavLobby), Raid: v}))
}

// raidResult is the raid's view, with the player's total and place when it was cleared.
func (web *Web) raidResult(r *http.Request, p app.Player, rd raids.Raid, now time.Time, notice string) (partial.Raid, error) {
	v := raidView(rd, now)
	v.Notice = notice
	if v.Status != partial.RaidSuccess {
		return v, nil
	}
	rv, err := web.app.Ranking.Of(r.Context(), p)
	if err != nil {
		return v, err
	}
	return withResult(v, rv), nil
}

// end clears the player's raid. A raid past its deadline is recorded as failed and says so.
func (web *Web) end(w http.ResponseWriter, r *http.Request, p app.Player) {
	w.Header().Add("Vary", "HX-Request")
	ctx := r.Context()
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		web.pages.Fail(w, r, p, raids.ErrNotFound)
		return
	}
	var rd app.RaidAt
	var notice string
	res, err := web.app.Raids.EndRaid(ctx, p, id, nil)
	switch {
	case err == nil:
		rd = app.RaidAt{Raid: res.Raid, Now: res.Now}
	case errors.Is(err, raids.ErrExpired):
		notice = i18n.T(ctx, "raid.too_late")
	case errors.Is(err, raids.ErrNotInProgress):
		notice = i18n.T(ctx, "raid.already_cleared")
	default:
		web.pages.Fail(w, r, p, err)
		return
	}
	if err != nil {
		if rd, err = web.app.Raids.Raid(ctx, p, id); err != nil {
			web.pages.Fail(w, r, p, err)
			return
		}
	}
	if !htmlpage.IsHTMX(r) {
		if notice != "" {
			web.pages.Flash(r, "error", notice)
		}
		http.Redirect(w, r, raidPath(id), http.StatusSeeOther)
		return
	}
	v, err := web.raidResult(r, p, rd.Raid, rd.Now, notice)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	web.pages.Render(w, r, http.StatusOK, partial.RaidPanel(v))
}
