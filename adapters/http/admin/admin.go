// Package admin is the admin front door: server-rendered pages over every raid and player,
// the boss raid data and the ranking, for players with the admin role. Every route, page and
// action alike, sends visitors to sign in, answers other players 403 and only then calls the
// use cases, which check the role again. Actions are POST forms behind cross-origin
// protection with redirect after POST; nothing needs JavaScript.
package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/headers"
	"github.com/bossraid/bossraid/adapters/http/htmlpage"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/i18n"
	views "github.com/bossraid/bossraid/views/admin"
	"github.com/bossraid/bossraid/views/layout"
)

// Config is what the admin pages are built from.
type Config struct {
	App   *app.App
	Queue *app.Queue // the raid queue, shown on the overview and the raid pages; nil leaves it out
	// Sessions are the web pages' sessions: an admin signs in there.
	Sessions *session.Manager
	Logger   *slog.Logger
	// Now is the clock the pages are drawn by (the footer's time); nil: the system clock.
	Now func() time.Time
}

// Admin serves the admin pages. Build it with New.
type Admin struct {
	app      *app.App
	queue    *app.Queue
	sessions *session.Manager
	log      *slog.Logger
	cop      *http.CrossOriginProtection
	pages    *htmlpage.Pages
}

// New builds the admin pages.
func New(cfg Config) (*Admin, error) {
	if cfg.App == nil || cfg.Sessions == nil {
		return nil, errors.New("admin: App and Sessions are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Admin{app: cfg.App, queue: cfg.Queue, sessions: cfg.Sessions, log: cfg.Logger, cop: http.NewCrossOriginProtection()}
	// Cache-Control is securityHeaders' no-store, which rendering keeps.
	h.pages = htmlpage.New(htmlpage.Config{
		Sessions: cfg.Sessions, Logger: cfg.Logger, Now: cfg.Now,
		Nav: layout.NavAdmin, ErrorText: errorText,
	})
	h.cop.SetDenyHandler(http.HandlerFunc(h.pages.CrossOriginDenied))
	return h, nil
}

// Route is one admin route, for tests that try every one of them.
type Route struct {
	Method, Path string
}

// route is one entry of the registration table: serve behind wrap (which checks the admin).
type route struct {
	method, path string
	wrap         func(adminHandler) http.Handler
	serve        adminHandler
}

// routes is every admin route; Register adds them and Routes lists them. Building it touches
// nothing of h, so Routes can list it without an Admin.
func (h *Admin) routes() []route {
	return []route{
		{http.MethodGet, views.PathDashboard, h.page, h.dashboard},
		{http.MethodGet, views.PathRaids, h.page, h.raids},
		{http.MethodGet, views.PathRaidsCSV, h.stream, h.exportCSV},
		{http.MethodGet, views.PathTopRaiders, h.page, h.topRaiders},
		{http.MethodGet, views.PathRaids + "/{id:[0-9]+}", h.page, h.raid},
		{http.MethodGet, views.PathPlayers, h.page, h.players},
		{http.MethodGet, views.PathPlayers + "/{id:[0-9]+}", h.page, h.player},
		{http.MethodGet, views.PathBossData, h.page, h.bossData},
		{http.MethodPost, views.PathBossDataReload, h.actionBackTo(views.PathBossData), h.reloadBossData},
		{http.MethodGet, views.PathRanking, h.page, h.ranking},
		{http.MethodPost, views.PathRankingRebuild, h.actionBackTo(views.PathRanking), h.rebuildRanking},
	}
}

// Routes lists every route Register adds, with example ids.
func Routes() []Route {
	var out []Route
	for _, rt := range (&Admin{}).routes() {
		out = append(out, Route{rt.method, strings.ReplaceAll(rt.path, "{id:[0-9]+}", "1")})
	}
	return out
}

// Register adds the admin routes to r (it implements the server's FrontDoor). GET routes
// answer HEAD as well.
func (h *Admin) Register(r *mux.Router) {
	for _, rt := range h.routes() {
		methods := []string{rt.method}
		if rt.method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		r.Handle(rt.path, rt.wrap(rt.serve)).Methods(methods...)
	}
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
	return securityHeaders(h.cop.Handler(h.sessions.LoadAndSave(h.pages.ReadForm(h.authorize(next, back)))))
}

// actionBackTo wraps form actions whose form is on the page back.
func (h *Admin) actionBackTo(back string) func(adminHandler) http.Handler {
	return func(next adminHandler) http.Handler { return h.action(next, back) }
}

// stream wraps the CSV export like a page but outside LoadAndSave (which would hold the whole
// file in memory): it reads the session without changing it.
func (h *Admin) stream(next adminHandler) http.Handler {
	return securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.sessions.PlayerFromRequest(r, h.app.Accounts)
		switch {
		case errors.Is(err, app.ErrUnauthenticated):
			htmlpage.RequireSignIn(w, r, "")
		case err != nil:
			h.streamFail(w, r, app.Player{}, err)
		case !p.IsAdmin():
			h.streamFail(w, r, p, app.ErrForbidden)
		default:
			next(w, r, p)
		}
	}))
}

// authorize lets admins through: visitors go to sign in, other players get 403.
func (h *Admin) authorize(next adminHandler, back string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.sessions.Player(r.Context(), h.app.Accounts)
		switch {
		case errors.Is(err, app.ErrUnauthenticated):
			htmlpage.RequireSignIn(w, r, back)
		case err != nil:
			h.pages.Fail(w, r, app.Player{}, err)
		case !p.IsAdmin():
			h.pages.Fail(w, r, p, app.ErrForbidden)
		default:
			next(w, r, p)
		}
	}
}

// securityHeaders are the site's page headers, and no caching: admin pages show emails and
// phones, which must never sit in a shared cache.
func securityHeaders(next http.Handler) http.Handler {
	return headers.Page(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	}))
}

func (h *Admin) frame(r *http.Request, p app.Player, title, tab string) views.Frame {
	return views.Frame{Meta: h.pages.Meta(r, p, title, layout.NavAdmin), Tab: tab}
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
