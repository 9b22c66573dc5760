package admin

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/ports"
	views "github.com/bossraid/bossraid/views/admin"
	"github.com/bossraid/bossraid/views/layout"
)

// raidQuery is the raids filter as the query string gives it: the form as typed, what it
// means, and what is wrong with it.
type raidQuery struct {
	form   views.RaidFilterForm
	filter ports.RaidFilter
	order  ports.RaidOrder
	after  *ports.RaidKey
	before *ports.RaidKey
	limit  int
}

// timeLayouts are what the time range accepts: the datetime-local input's forms (UTC), a
// date, and RFC 3339.
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02", time.RFC3339Nano}

func parseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}

// parseRaidQuery reads the filter, order, cursor and page size of the raids pages.
func (h *Admin) parseRaidQuery(q url.Values) raidQuery {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	rq := raidQuery{form: views.RaidFilterForm{
		Player: get("player"), Exact: get("exact") != "" && get("exact") != "0", Status: get("status"),
		Level: get("level"), From: get("from"), To: get("to"), Sort: get("sort"), Errors: map[string]string{},
	}}
	for _, l := range h.app.Raids.BossData().Levels {
		rq.form.Levels = append(rq.form.Levels, l.Level)
	}
	f, errs := &rq.filter, rq.form.Errors
	f.Player, f.PlayerExact = rq.form.Player, rq.form.Exact
	if rq.form.Status != "" {
		st, err := raids.ParseStatus(rq.form.Status)
		if err != nil {
			errs["status"] = "Choose in progress, cleared or failed."
		}
		f.Status = st
	}
	if rq.form.Level != "" {
		n, err := strconv.Atoi(rq.form.Level)
		if err != nil {
			errs["level"] = "The level is a number."
		}
		f.Level = &n
	}
	for _, bound := range []struct {
		name string
		raw  string
		dst  *time.Time
	}{{"from", rq.form.From, &f.From}, {"to", rq.form.To, &f.To}} {
		if bound.raw == "" {
			continue
		}
		t, err := parseTime(bound.raw)
		if err != nil {
			errs[bound.name] = "Give a time like 2026-11-25T13:45 (UTC)."
		}
		*bound.dst = t
	}
	rq.order = ports.RaidsNewestFirst
	if rq.form.Sort != "" {
		o, err := ports.ParseRaidOrder(rq.form.Sort)
		if err != nil {
			errs["sort"] = "Choose an order from the list."
		}
		rq.order = o
	}
	rq.form.Sort = rq.order.String()
	var err error
	if rq.after, err = parseRaidKey(q.Get("after")); err != nil {
		errs["page"] = "This page link is broken; start again from the first page."
	}
	if rq.before, err = parseRaidKey(q.Get("before")); err != nil {
		errs["page"] = "This page link is broken; start again from the first page."
	}
	if raw := q.Get("limit"); raw != "" {
		if rq.limit, err = strconv.Atoi(raw); err != nil {
			errs["page"] = "The page size is a number."
		}
	}
	return rq
}

// A raid cursor is "<enter time in unix microseconds>_<score>_<id>": every order's key at once.
func formatRaidKey(k ports.RaidKey) string {
	return fmt.Sprintf("%d_%d_%d", k.EnterTime.UnixMicro(), k.Score, k.ID)
}

func parseRaidKey(s string) (*ports.RaidKey, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "_")
	if len(parts) != 3 {
		return nil, errors.New("bad cursor")
	}
	micros, err1 := strconv.ParseInt(parts[0], 10, 64)
	score, err2 := strconv.Atoi(parts[1])
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || id <= 0 {
		return nil, errors.New("bad cursor")
	}
	return &ports.RaidKey{EnterTime: time.UnixMicro(micros).UTC(), Score: score, ID: id}, nil
}

// fieldErrors takes the fields of a validation error into errs; false when err is another error.
func fieldErrors(err error, errs map[string]string) bool {
	ve, ok := errors.AsType[*app.ValidationError](err)
	if !ok {
		return false
	}
	for k, v := range ve.Fields {
		if k == "after" || k == "limit" {
			k = "page"
		}
		errs[k] = strings.ToUpper(v[:1]) + v[1:] + "."
	}
	return true
}

func (h *Admin) raids(w http.ResponseWriter, r *http.Request, p app.Player) {
	rq := h.parseRaidQuery(r.URL.Query())
	v := views.Raids{Form: rq.form}
	status := http.StatusOK
	if len(rq.form.Errors) == 0 {
		list, err := h.app.Admin.ListRaids(r.Context(), p, app.RaidListQuery{
			Filter: rq.filter, Order: rq.order, After: rq.after, Before: rq.before, Limit: rq.limit,
		})
		if err != nil && !fieldErrors(err, rq.form.Errors) {
			h.pages.Fail(w, r, p, err)
			return
		}
		for _, raid := range list.Raids {
			v.Rows = append(v.Rows, raidRow(raid))
		}
		v.Pager = raidPager(rq, list)
	}
	if len(rq.form.Errors) > 0 {
		status, v.Invalid = http.StatusBadRequest, true
	}
	v.Form = rq.form
	v.CSVPath = rq.form.Href(views.PathRaidsCSV)
	v.TopRaidersPath = rq.form.Href(views.PathTopRaiders)
	v.Frame = h.frame(r, p, i18n.T(r.Context(), "admin.tab.raids"), views.TabRaids)
	h.pages.Render(w, r, status, views.RaidsPage(v))
}

func raidPager(rq raidQuery, list app.RaidList) views.Pager {
	base := rq.form.Query()
	if rq.limit != 0 {
		base.Set("limit", strconv.Itoa(rq.limit))
	}
	link := func(k string, key *ports.RaidKey) string {
		if key == nil {
			return ""
		}
		q := maps.Clone(base)
		q.Set(k, formatRaidKey(*key))
		return views.WithQuery(views.PathRaids, q)
	}
	pg := views.Pager{PrevPath: link("before", list.Prev), NextPath: link("after", list.Next)}
	if rq.after != nil || rq.before != nil {
		pg.FirstPath = views.WithQuery(views.PathRaids, base)
	}
	return pg
}

func raidRow(r raids.Raid) views.RaidRow {
	return views.RaidRow{
		ID: r.ID, Path: views.RaidPath(r.ID), PlayerID: r.UserID, Nickname: r.Nickname,
		PlayerPath: views.PlayerPath(r.UserID), Level: r.Level, LevelScore: r.LevelScore, Score: r.Score,
		Status: r.Status.String(), EnterTime: r.EnterTime, Deadline: r.Deadline, EndTime: r.EndTime,
		TimeLimit: r.TimeLimit,
	}
}

func (h *Admin) raid(w http.ResponseWriter, r *http.Request, p app.Player) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		h.pages.Fail(w, r, p, raids.ErrNotFound)
		return
	}
	raid, err := h.app.Admin.RaidDetail(r.Context(), p, id)
	if err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	queue, err := h.queueNow(r)
	if err != nil {
		h.pages.Fail(w, r, p, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, views.RaidPage(views.Raid{
		Frame:           h.frame(r, p, i18n.T(r.Context(), "admin.raid.title", i18n.Args{"ID": raid.ID}), views.TabRaids),
		Raid:            raidRow(raid),
		PlayerRaidsPath: views.RaidFilterForm{}.WithPlayer(raid.Nickname).Href(views.PathRaids),
		Queue:           queue,
	}))
}

// topRaiders answers "who played the most raids like these": the raids filter, counted by player.
func (h *Admin) topRaiders(w http.ResponseWriter, r *http.Request, p app.Player) {
	rq := h.parseRaidQuery(r.URL.Query())
	rq.form.Sort = ""
	v := views.TopRaiders{}
	status := http.StatusOK
	if len(rq.form.Errors) == 0 {
		top, err := h.app.Admin.TopRaiders(r.Context(), p, rq.filter, rq.limit)
		if err != nil && !fieldErrors(err, rq.form.Errors) {
			h.pages.Fail(w, r, p, err)
			return
		}
		for i, pc := range top {
			v.Rows = append(v.Rows, views.RaiderRow{
				Place: i + 1, Nickname: pc.Nickname, PlayerPath: views.PlayerPath(pc.UserID),
				RaidsPath: rq.form.WithPlayer(pc.Nickname).Href(views.PathRaids),
				Counts:    counts(pc.Raids),
			})
		}
	}
	if len(rq.form.Errors) > 0 {
		status, v.Invalid = http.StatusBadRequest, true
	}
	v.Form = rq.form
	v.RaidsPath = rq.form.Href(views.PathRaids)
	v.Frame = h.frame(r, p, i18n.T(r.Context(), "admin.top.title"), views.TabRaids)
	h.pages.Render(w, r, status, views.TopRaidersPage(v))
}

func counts(c ports.RaidCounts) views.Counts {
	return views.Counts{Total: c.Total(), InProgress: c.InProgress, Success: c.Success, Fail: c.Fail}
}

// exportCSV streams the filtered raids as CSV (behind stream, not LoadAndSave).
func (h *Admin) exportCSV(w http.ResponseWriter, r *http.Request, p app.Player) {
	rq := h.parseRaidQuery(r.URL.Query())
	if len(rq.form.Errors) > 0 {
		h.streamFail(w, r, p, &app.ValidationError{Fields: rq.form.Errors})
		return
	}
	export, err := h.app.Admin.ExportRaids(r.Context(), p, rq.filter, rq.order)
	if err != nil {
		h.streamFail(w, r, p, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="raids-%s.csv"`, export.Now.UTC().Format("20060102-150405")))
	if r.Method == http.MethodHead {
		return
	}
	out := &countingWriter{w: w, rc: http.NewResponseController(w)}
	n, err := writeRaidsCSV(out, export.Raids)
	if err == nil {
		h.log.InfoContext(r.Context(), "raids exported", "admin", p.ID, "rows", n, "bytes", out.n)
		return
	}
	if out.n == 0 {
		hd.Del("Content-Disposition")
		h.streamFail(w, r, p, err)
		return
	}
	// Half a file must not look like a whole one: cut the connection.
	h.log.WarnContext(r.Context(), "raids export broke off", "admin", p.ID, "rows", n, "err", err)
	panic(http.ErrAbortHandler)
}

// streamFail is fail for the export, which has no session loaded to take a flash from.
func (h *Admin) streamFail(w http.ResponseWriter, r *http.Request, p app.Player, err error) {
	prob := problem.From(err)
	problem.Log(r, h.log, prob, err)
	if ve, ok := errors.AsType[*app.ValidationError](err); ok {
		var parts []string
		for _, k := range []string{"player", "status", "level", "from", "to", "sort", "page"} {
			if msg := ve.Fields[k]; msg != "" {
				parts = append(parts, k+": "+i18n.From(r.Context()).Detail(msg))
			}
		}
		prob.Detail = i18n.T(r.Context(), "admin.raids.filter_invalid", i18n.Args{"Errors": strings.Join(parts, " ")})
	}
	h.pages.ErrorPage(w, r, h.pages.BareMeta(p, "", layout.NavAdmin), prob)
}

// exportWriteTimeout bounds each write of the export: a file of any length may stream, past the
// server's overall write timeout, but never to a client that stopped reading.
const exportWriteTimeout = 10 * time.Second

// countingWriter tells whether anything reached the client yet, and moves the write deadline
// on before each write.
type countingWriter struct {
	w  io.Writer
	rc *http.ResponseController
	n  int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	_ = c.rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
