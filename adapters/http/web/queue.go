package web

import (
	"net/http"

	"github.com/bossraid/bossraid/adapters/http/htmlpage"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/partial"
)

// The raid queue on the lobby: join and leave with plain forms (a flash and back to the lobby)
// or htmx (the queue panel answered alone). The live stream keeps the panel current.

// queuePanel answers the queue panel alone to htmx (the page asks when a turn's countdown
// ends); a browser is sent to the lobby, which shows it.
func (web *Web) queuePanel(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "HX-Request")
	p, _, err := web.viewer(r)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	if !htmlpage.IsHTMX(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	web.answerQueue(w, r, p, http.StatusOK, "")
}

// joinQueue puts the player in line.
func (web *Web) joinQueue(w http.ResponseWriter, r *http.Request, p app.Player) {
	w.Header().Add("Vary", "HX-Request")
	pos, err := web.queue.Join(r.Context(), p)
	web.queueDone(w, r, p, err, i18n.T(r.Context(), "flash.queue_joined", i18n.Args{"Position": pos}))
}

// leaveQueue takes the player out of the line.
func (web *Web) leaveQueue(w http.ResponseWriter, r *http.Request, p app.Player) {
	w.Header().Add("Vary", "HX-Request")
	err := web.queue.Leave(r.Context(), p)
	web.queueDone(w, r, p, err, i18n.T(r.Context(), "flash.queue_left"))
}

// queueDone answers a join or a leave: the refusals of the queue's rules (4xx) are said in
// the panel or as a flash; anything else is the error page.
func (web *Web) queueDone(w http.ResponseWriter, r *http.Request, p app.Player, err error, done string) {
	prob := problem.From(err)
	if err != nil && prob.Status >= http.StatusInternalServerError {
		web.pages.Fail(w, r, p, err)
		return
	}
	if !htmlpage.IsHTMX(r) {
		if err != nil {
			web.pages.Flash(r, "error", i18n.From(r.Context()).Detail(prob.Detail))
		} else {
			web.pages.Flash(r, "info", done)
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	status, message := http.StatusOK, ""
	if err != nil { // a refusal the panel says (htmx swaps 409s; not_queued is a 404 elsewhere)
		status, message = http.StatusConflict, prob.Detail
	}
	web.answerQueue(w, r, p, status, message)
}

// answerQueue renders the queue panel as it stands, with message as its error.
func (web *Web) answerQueue(w http.ResponseWriter, r *http.Request, p app.Player, status int, message string) {
	v, err := web.queueNow(r, p)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	v.Error = message
	web.pages.Render(w, r, status, partial.QueuePanel(v))
}

// queueNow reads the raid and the line for p's queue panel.
func (web *Web) queueNow(r *http.Request, p app.Player) (partial.Queue, error) {
	st, err := web.app.Raids.Status(r.Context())
	if err != nil {
		return partial.Queue{}, err
	}
	l, err := web.queue.Line(r.Context())
	if err != nil {
		return partial.Queue{}, err
	}
	return queueView(l, st, p, st.Now), nil
}
