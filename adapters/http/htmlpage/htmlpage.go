// Package htmlpage is the page plumbing the two HTML front doors (web and admin) share: rendering
// a templ page, its frame (viewer and flash), the error page from the one error table, sending a
// visitor to sign in (a 303, or HX-Redirect for htmx), and the answer to a cross-origin form.
package htmlpage

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/bossraid/bossraid/adapters/http/media"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/redirect"
	"github.com/bossraid/bossraid/adapters/http/request"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/component"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/page"
)

// Config is what one front door's pages are built from.
type Config struct {
	Sessions *session.Manager
	Logger   *slog.Logger
	// Now is the time a page is drawn at (the footer's clock, countdowns).
	Now func() time.Time
	// CacheControl is set on every rendered page; "" keeps what the front door's middleware set.
	CacheControl string
	// Nav is the navigation tab error pages mark.
	Nav string
	// ErrorText is the title and message of an error page, in the request's language.
	ErrorText func(ctx context.Context, p problem.Problem) (title, message string)
	// Viewer is the signed-in player an early error page (an unreadable form) shows; nil shows none.
	Viewer func(r *http.Request) app.Player
}

// Pages draws one front door's pages. Build it with New.
type Pages struct {
	cfg Config
}

// New builds the page plumbing of a front door.
func New(cfg Config) *Pages {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Viewer == nil {
		cfg.Viewer = func(*http.Request) app.Player { return app.Player{} }
	}
	return &Pages{cfg: cfg}
}

// IsHTMX reports whether htmx sent the request (and so wants a fragment).
func IsHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// Render writes a whole component, rendered first so a failure becomes a clean 500.
func (p *Pages) Render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	p.write(w, r, status, c, p.cfg.CacheControl)
}

func (p *Pages) write(w http.ResponseWriter, r *http.Request, status int, c templ.Component, cacheControl string) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		p.cfg.Logger.ErrorContext(r.Context(), "render page", "err", err)
		http.Error(w, "something went wrong on our side", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if cacheControl != "" {
		h.Set("Cache-Control", cacheControl)
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// Meta is the frame of a page for viewer (zero for visitors). It takes the flash out of the
// session, so call it before writing anything, and only on routes behind LoadAndSave.
func (p *Pages) Meta(r *http.Request, viewer app.Player, title, nav string) layout.Meta {
	m := p.BareMeta(viewer, title, nav)
	if m.Viewer != nil {
		m.Viewer.AvatarURL = media.ProfileImagePath(p.cfg.Sessions.ProfileImage(r.Context()))
	}
	if f, ok := p.cfg.Sessions.PopFlash(r.Context()); ok {
		m.Flash = &layout.Flash{Kind: f.Kind, Message: f.Message}
	}
	return m
}

// BareMeta is the frame without anything from the session (for routes that load none).
func (p *Pages) BareMeta(viewer app.Player, title, nav string) layout.Meta {
	m := layout.Meta{Title: title, Nav: nav, Now: p.cfg.Now()}
	if viewer.ID != 0 {
		m.Viewer = &layout.Viewer{Nickname: viewer.Nickname, IsAdmin: viewer.IsAdmin()}
	}
	return m
}

// Flash keeps a message for the next page this browser sees.
func (p *Pages) Flash(r *http.Request, kind, message string) {
	p.cfg.Sessions.PutFlash(r.Context(), session.Flash{Kind: kind, Message: message})
}

// Redirect sends the browser on after a POST: 303 for plain forms, HX-Redirect for htmx (which
// would otherwise follow a 303 itself and swap the whole next page into a fragment).
func Redirect(w http.ResponseWriter, r *http.Request, to string) {
	if IsHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// RequireSignIn sends a visitor to the sign-in page, to come back to back once signed in; an
// empty back means this page, or after a form the page the form was on (htmx names it).
func RequireSignIn(w http.ResponseWriter, r *http.Request, back string) {
	// htmx gets HX-Redirect, a browser a 303: the answer depends on HX-Request.
	if !slices.Contains(w.Header().Values("Vary"), "HX-Request") {
		w.Header().Add("Vary", "HX-Request")
	}
	next := back
	switch {
	case next != "":
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		next = r.URL.RequestURI()
	default:
		next = r.Header.Get("HX-Current-URL")
	}
	next = redirect.Local(next, r.Host)
	to := component.SignInPath
	if next != redirect.Lobby {
		to += "?next=" + url.QueryEscape(next)
	}
	Redirect(w, r, to)
}

// Fail answers err with the error page, from the one error table. Unauthenticated visitors are
// sent to sign in instead.
func (p *Pages) Fail(w http.ResponseWriter, r *http.Request, viewer app.Player, err error) {
	prob := problem.From(err)
	if prob.Status == http.StatusUnauthorized {
		RequireSignIn(w, r, "")
		return
	}
	problem.Log(r, p.cfg.Logger, prob, err)
	p.ErrorPage(w, r, p.Meta(r, viewer, "", p.cfg.Nav), prob)
}

// ErrorPage renders a problem as a page in the frame m.
func (p *Pages) ErrorPage(w http.ResponseWriter, r *http.Request, m layout.Meta, prob problem.Problem) {
	prob.SetRetryAfter(w.Header())
	title, message := p.cfg.ErrorText(r.Context(), prob)
	m.Title = title
	p.Render(w, r, prob.Status, page.ErrorPage(page.Error{Meta: m, Status: prob.Status, Title: title, Message: message}))
}

// SessionlessErrorPage renders an error page without reading the session (none is loaded), and
// never to be cached.
func (p *Pages) SessionlessErrorPage(w http.ResponseWriter, r *http.Request, prob problem.Problem, title, message string) {
	m := layout.Meta{Title: title, Nav: p.cfg.Nav, Now: p.cfg.Now()}
	p.write(w, r, prob.Status, page.ErrorPage(page.Error{Meta: m, Status: prob.Status, Title: title, Message: message}), "no-store")
}

// CrossOriginDenied answers a state-changing request from another site. It runs before the
// session is loaded, so the page shows no player.
func (p *Pages) CrossOriginDenied(w http.ResponseWriter, r *http.Request) {
	p.cfg.Logger.InfoContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	p.SessionlessErrorPage(w, r, problem.From(app.ErrForbidden),
		i18n.T(r.Context(), "error.403.title"), i18n.T(r.Context(), "error.cross_origin"))
}

// ReadForm reads the form of a request within the site's limits (the error page, 413, beyond
// them) before next sees it, and removes a multipart form's files after.
func (p *Pages) ReadForm(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := request.ReadForm(r); err != nil {
			p.Fail(w, r, p.cfg.Viewer(r), err)
			return
		}
		if r.MultipartForm != nil {
			defer func() { _ = r.MultipartForm.RemoveAll() }()
		}
		next(w, r)
	}
}
