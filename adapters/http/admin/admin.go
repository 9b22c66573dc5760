// Package admin is the admin front door: server-rendered pages over every raid and player,
// the boss raid data and the ranking, for players with the admin role. Every route, page and
// action alike, sends visitors to sign in, answers other players 403 and only then calls the
// use cases, which check the role again. Actions are POST forms behind cross-origin
// protection with redirect after POST; nothing needs JavaScript.
package admin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/a-h/templ"
	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/headers"
	"github.com/bossraid/bossraid/adapters/http/limits"
	"github.com/bossraid/bossraid/adapters/http/media"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/redirect"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/i18n"
	views "github.com/bossraid/bossraid/views/admin"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/page"
)

// SignInPath is the web front door's sign-in page; it takes the way back in ?next=.
const SignInPath = "/signin"

// Config is what the admin pages are built from.
type Config struct {
	App *app.App
	// Sessions are the web pages' sessions: an admin signs in there.
	Sessions *session.Manager
	Logger   *slog.Logger
}

// Admin serves the admin pages. Build it with New.
type Admin struct {
	app      *app.App
	sessions *session.Manager
	log      *slog.Logger
	cop      *http.CrossOriginProtection
}

// New builds the admin pages.
func New(cfg Config) (*Admin, error) {
	if cfg.App == nil || cfg.Sessions == nil {
		return nil, errors.New("admin: App and Sessions are required")
	}
	if cfg.App.Admin == nil {
		return nil, errors.New("admin: the app has no admin store (app.Deps.Admin)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Admin{app: cfg.App, sessions: cfg.Sessions, log: cfg.Logger, cop: http.NewCrossOriginProtection()}
	h.cop.SetDenyHandler(http.HandlerFunc(h.crossOriginDenied))
	return h, nil
}

// Route is one admin route, for tests that try every one of them.
type Route struct {
	Method, Path string
}

// Routes lists every route Register adds, with example ids.
func Routes() []Route {
	return []Route{
		{http.MethodGet, views.PathDashboard},
		{http.MethodGet, views.PathRaids},
		{http.MethodGet, views.PathRaidsCSV},
		{http.MethodGet, views.PathTopRaiders},
		{http.MethodGet, views.RaidPath(1)},
		{http.MethodGet, views.PathPlayers},
		{http.MethodGet, views.PlayerPath(1)},
		{http.MethodGet, views.PathBossData},
		{http.MethodPost, views.PathBossDataReload},
		{http.MethodGet, views.PathRanking},
		{http.MethodPost, views.PathRankingRebuild},
	}
}

// Register adds the admin routes to r (it implements the server's FrontDoor).
func (h *Admin) Register(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(views.PathDashboard, h.page(h.dashboard)).Methods(get...)
	r.Handle(views.PathRaids, h.page(h.raids)).Methods(get...)
	// The export streams, so it is not behind LoadAndSave, which holds the response back.
	r.Handle(views.PathRaidsCSV, securityHeaders(http.HandlerFunc(h.exportCSV))).Methods(get...)
	r.Handle(views.PathTopRaiders, h.page(h.topRaiders)).Methods(get...)
	r.Handle(views.PathRaids+"/{id:[0-9]+}", h.page(h.raid)).Methods(get...)
	r.Handle(views.PathPlayers, h.page(h.players)).Methods(get...)
	r.Handle(views.PathPlayers+"/{id:[0-9]+}", h.page(h.player)).Methods(get...)
	r.Handle(views.PathBossData, h.page(h.bossData)).Methods(get...)
	r.Handle(views.PathBossDataReload, h.action(h.reloadBossData, views.PathBossData)).Methods(http.MethodPost)
	r.Handle(views.PathRanking, h.page(h.ranking)).Methods(get...)
	r.Handle(views.PathRankingRebuild, h.action(h.rebuildRanking, views.PathRanking)).Methods(http.MethodPost)
}

// adminHandler serves an admin who has been checked to be one.
type adminHandler func(w http.ResponseWriter, r *http.Request, p app.Player)

// page wraps a page: security headers, the session, then the admin check.
func (h *Admin) page(next adminHandler) http.Handler {
	return securityHeaders(h.cop.Handler(h.sessions.LoadAndSave(h.authorize(next, ""))))
}

// action wraps a form action like a page, cross-origin requests refused first; a visitor
// signs in and comes back to back, the page the form is on.
func (h *Admin) action(next adminHandler, back string) http.Handler {
	return securityHeaders(h.cop.Handler(h.sessions.LoadAndSave(h.readForm(h.authorize(next, back)))))
}

// readForm reads an action's form within the site's limits (413 beyond them) before anything
// else looks at the request.
func (h *Admin) readForm(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := limits.ReadForm(r); err != nil {
			h.fail(w, r, app.Player{}, err)
			return
		}
		if r.MultipartForm != nil {
			defer func() { _ = r.MultipartForm.RemoveAll() }()
		}
		next(w, r)
	}
}

// authorize lets admins through: visitors go to sign in, other players get 403.
func (h *Admin) authorize(next adminHandler, back string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.sessions.Player(r.Context(), h.app)
		switch {
		case errors.Is(err, app.ErrUnauthenticated):
			h.signIn(w, r, back)
		case err != nil:
			h.fail(w, r, app.Player{}, err)
		case !p.IsAdmin():
			h.fail(w, r, p, app.ErrForbidden)
		default:
			next(w, r, p)
		}
	}
}

// signIn sends a visitor to the sign-in page, to come back to this page (or to back after a form).
func (h *Admin) signIn(w http.ResponseWriter, r *http.Request, back string) {
	next := back
	if next == "" {
		next = r.URL.RequestURI()
	}
	http.Redirect(w, r, SignInPath+"?next="+url.QueryEscape(redirect.Local(next, r.Host)), http.StatusSeeOther)
}

// securityHeaders are the site's page headers, and no caching: admin pages show emails and
// phones, which must never sit in a shared cache.
func securityHeaders(next http.Handler) http.Handler {
	return headers.Page(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	}))
}

// meta is the site frame for an admin page. It takes the flash out of the session, so call it
// before writing anything, and only on routes behind LoadAndSave.
func (h *Admin) meta(r *http.Request, p app.Player, title string) layout.Meta {
	m := h.bareMeta(p, title)
	if p.ID != 0 {
		m.Viewer.AvatarURL = media.ProfileImagePath(h.sessions.ProfileImage(r.Context()))
	}
	if f, ok := h.sessions.PopFlash(r.Context()); ok {
		m.Flash = &layout.Flash{Kind: f.Kind, Message: f.Message}
	}
	return m
}

// bareMeta is the frame without anything from the session (for the streaming export).
func (h *Admin) bareMeta(p app.Player, title string) layout.Meta {
	m := layout.Meta{Title: title, Nav: layout.NavAdmin, Now: h.app.Clock.Now()}
	if p.ID != 0 {
		m.Viewer = &layout.Viewer{Nickname: p.Nickname, IsAdmin: p.IsAdmin()}
	}
	return m
}

func (h *Admin) frame(r *http.Request, p app.Player, title, tab string) views.Frame {
	return views.Frame{Meta: h.meta(r, p, title), Tab: tab}
}

func (h *Admin) flash(r *http.Request, kind, message string) {
	h.sessions.PutFlash(r.Context(), session.Flash{Kind: kind, Message: message})
}

// render writes a whole page, rendered first so a failure becomes a clean 500.
func (h *Admin) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		h.log.ErrorContext(r.Context(), "render admin page", "err", err)
		http.Error(w, "something went wrong on our side", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// fail answers err with the site's error page, from the one error table.
func (h *Admin) fail(w http.ResponseWriter, r *http.Request, p app.Player, err error) {
	prob := problem.From(err)
	problem.Log(r, h.log, prob, err)
	h.errorPage(w, r, h.meta(r, p, ""), prob)
}

func (h *Admin) errorPage(w http.ResponseWriter, r *http.Request, m layout.Meta, prob problem.Problem) {
	prob.SetRetryAfter(w.Header())
	title, message := errorText(r.Context(), prob)
	m.Title = title
	h.render(w, r, prob.Status, page.ErrorPage(page.Error{Meta: m, Status: prob.Status, Title: title, Message: message}))
}

func errorText(ctx context.Context, p problem.Problem) (title, message string) {
	key := "error.500"
	switch p.Status {
	case http.StatusForbidden:
		key = "error.admin_403"
	case http.StatusNotFound:
		key = "error.admin_404"
	case http.StatusBadRequest:
		return i18n.T(ctx, "error.400.title"), i18n.From(ctx).Detail(p.Detail)
	case http.StatusRequestEntityTooLarge:
		key = "error.413"
	case http.StatusServiceUnavailable:
		key = "error.503"
	}
	return i18n.T(ctx, key+".title"), i18n.T(ctx, key+".text")
}

// crossOriginDenied answers an action sent from another site; it runs before the session.
func (h *Admin) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	h.log.InfoContext(r.Context(), "cross-origin admin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	prob := problem.From(app.ErrForbidden)
	m := h.bareMeta(app.Player{}, "")
	title, message := i18n.T(r.Context(), "error.403.title"), i18n.T(r.Context(), "error.cross_origin")
	m.Title = title
	h.render(w, r, prob.Status, page.ErrorPage(page.Error{Meta: m, Status: prob.Status, Title: title, Message: message}))
}
