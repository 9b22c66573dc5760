// Package web is the HTML front door: server-rendered pages (templ) that work without
// JavaScript — plain forms, redirect after POST — and that htmx makes partial and live. It calls
// the same use cases as the JSON API and answers failures from the same error table.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/headers"
	"github.com/bossraid/bossraid/adapters/http/htmlpage"
	"github.com/bossraid/bossraid/adapters/http/lang"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/static"
	"github.com/bossraid/bossraid/views/component"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/page"
	"github.com/bossraid/bossraid/views/partial"
)

// Events is where the live lobby hears that something happened, on this instance or another.
type Events interface {
	// Watch delivers events until ctx ends, then closes the channel.
	Watch(ctx context.Context) <-chan ports.Event
}

// Config is what the web pages are built from.
type Config struct {
	App      *app.App
	Events   Events
	Queue    *app.Queue // the raid queue; nil leaves it out of the lobby
	Sessions *session.Manager
	Logger   *slog.Logger
	// Stop is closed at server shutdown: live streams end so the server can drain.
	Stop <-chan struct{}
	// Recheck is how often the live lobby re-reads the state when no change was announced
	// (the fallback when Redis pub/sub is down); 0 means every second.
	Recheck time.Duration
	// Heartbeat is how often an idle event stream sends a comment; 0 means every 15 seconds.
	Heartbeat time.Duration
	// Now is the clock the pages are drawn by (the footer's time, the live countdown's text);
	// nil: the system clock. What a use case judged comes with its answer's time.
	Now func() time.Time
	// MaxStreams is how many live-lobby streams this instance holds open at once; beyond it a
	// stream is refused with 503 and the page polls instead. 0 means DefaultMaxStreams.
	MaxStreams int
}

// DefaultMaxStreams is the live-stream cap when none is configured: what one instance holds
// within its memory budget and open-file limit.
const DefaultMaxStreams = 10000

// Web serves the HTML pages. Build it with New.
type Web struct {
	app      *app.App
	queue    *app.Queue
	sessions *session.Manager
	log      *slog.Logger
	cop      *http.CrossOriginProtection
	assets   *assets
	live     *liveLobby
	streams  streamSlots
	now      func() time.Time
	pages    *htmlpage.Pages
}

// New builds the web pages.
func New(cfg Config) (*Web, error) {
	if cfg.App == nil || cfg.Sessions == nil || cfg.Events == nil {
		return nil, errors.New("web: App, Events and Sessions are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if missing := static.VendorMissing(); len(missing) > 0 {
		cfg.Logger.Warn("htmx files are missing; pages work without JavaScript only (run `make assets`)", "missing", missing)
	}
	as, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	w := &Web{
		app: cfg.App, queue: cfg.Queue, sessions: cfg.Sessions, log: cfg.Logger,
		cop: http.NewCrossOriginProtection(), assets: as,
		streams: streamSlots{max: int64(cfg.MaxStreams)}, now: cfg.Now,
	}
	w.pages = htmlpage.New(htmlpage.Config{
		Sessions: cfg.Sessions, Logger: cfg.Logger, Now: cfg.Now,
		CacheControl: "no-cache, private", ErrorText: errorText,
		Viewer: func(r *http.Request) app.Player { p, _, _ := w.viewer(r); return p },
	})
	w.live = newLiveLobby(cfg.App, cfg.Logger, cfg.Recheck, cfg.Heartbeat, cfg.Stop)
	w.live.events = cfg.Events
	w.live.queue = cfg.Queue
	w.cop.SetDenyHandler(http.HandlerFunc(w.pages.CrossOriginDenied))
	cfg.Sessions.OnStoreFailure(w.sessionStoreFailed)
	return w, nil
}

// Register adds the pages to the server's router (it implements the server's FrontDoor).
func (web *Web) Register(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle("/", web.page(web.lobby)).Methods(get...)
	r.Handle("/ranking", web.page(web.rankingPage)).Methods(get...)
	r.Handle("/players/{nickname}", web.page(web.signedIn(web.player))).Methods(get...)
	r.Handle("/signup", web.page(web.signUpPage)).Methods(get...)
	r.Handle("/signup", web.page(web.signUp)).Methods(http.MethodPost)
	r.Handle(component.SignInPath, web.page(web.signInPage)).Methods(get...)
	r.Handle(component.SignInPath, web.page(web.signIn)).Methods(http.MethodPost)
	r.Handle("/signout", web.page(web.signOut)).Methods(http.MethodPost)
	r.Handle(layout.LanguagePath, web.page(lang.Switch)).Methods(http.MethodPost)
	r.Handle("/raids", web.page(web.signedIn(web.enter))).Methods(http.MethodPost)
	if web.queue != nil {
		r.Handle(partial.QueuePath, web.page(web.queuePanel)).Methods(get...)
		r.Handle(partial.QueuePath, web.page(web.signedIn(web.joinQueue))).Methods(http.MethodPost)
		r.Handle(partial.QueueLeavePath, web.page(web.signedIn(web.leaveQueue))).Methods(http.MethodPost)
	}
	r.Handle("/raids/{id:[0-9]+}", web.page(web.signedIn(web.raid))).Methods(get...)
	r.Handle("/raids/{id:[0-9]+}/end", web.page(web.signedIn(web.end))).Methods(http.MethodPost)
	// The stream is not behind LoadAndSave, which would hold its first bytes back.
	r.Handle(page.EventsPath, headers.Page(http.HandlerFunc(web.events))).Methods(http.MethodGet)
	r.PathPrefix(static.Prefix).Handler(web.assets).Methods(get...)
	r.Handle("/favicon.ico", http.RedirectHandler(static.Path("img/favicon.svg"), http.StatusMovedPermanently)).Methods(get...)
	if r.NotFoundHandler == nil {
		r.NotFoundHandler = web.page(web.notFound)
	}
	if r.MethodNotAllowedHandler == nil {
		r.MethodNotAllowedHandler = web.page(web.methodNotAllowed)
	}
}

// signedIn runs h for the signed-in player; visitors are sent to sign in and back.
func (web *Web) signedIn(h func(http.ResponseWriter, *http.Request, app.Player)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok, err := web.viewer(r)
		switch {
		case err != nil:
			web.pages.Fail(w, r, p, err)
		case !ok:
			htmlpage.RequireSignIn(w, r, "")
		default:
			h(w, r, p)
		}
	}
}

// page wraps every page and form handler: security headers, cross-origin protection of
// state-changing methods (safe methods pass), the session, then the form read within its
// limits (413 beyond them) before the handler sees it.
func (web *Web) page(h http.HandlerFunc) http.Handler {
	return headers.Page(web.cop.Handler(web.sessions.LoadAndSave(web.pages.ReadForm(h))))
}

// viewer is the signed-in player, if any; ok is false for visitors.
func (web *Web) viewer(r *http.Request) (p app.Player, ok bool, err error) {
	p, err = web.sessions.Player(r.Context(), web.app.Accounts)
	if errors.Is(err, app.ErrUnauthenticated) {
		return app.Player{}, false, nil
	}
	return p, err == nil, err
}

// errorText is the title and message of an error page, in the request's language.
func errorText(ctx context.Context, p problem.Problem) (title, message string) {
	switch p.Status {
	case http.StatusNotFound, http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge,
		http.StatusServiceUnavailable, http.StatusInternalServerError:
		key := "error." + strconv.Itoa(p.Status)
		return i18n.T(ctx, key+".title"), i18n.T(ctx, key+".text")
	case http.StatusTooManyRequests:
		return i18n.T(ctx, "error.429.title"), i18n.From(ctx).Detail(p.Detail)
	}
	return i18n.T(ctx, "error.400.title"), i18n.From(ctx).Detail(p.Detail)
}

func (web *Web) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		problem.WriteJSON(w, r, web.log, problem.ErrRouteNotFound, nil)
		return
	}
	p, _, _ := web.viewer(r)
	web.pages.ErrorPage(w, r, web.pages.Meta(r, p, "", ""), problem.From(problem.ErrRouteNotFound))
}

func (web *Web) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		problem.WriteJSON(w, r, web.log, problem.ErrMethodNotAllowed, nil)
		return
	}
	p, _, _ := web.viewer(r)
	web.pages.ErrorPage(w, r, web.pages.Meta(r, p, "", ""), problem.From(problem.ErrMethodNotAllowed))
}

// sessionStoreFailed answers a page whose session could not be loaded or saved (the session
// store is down): 503 with Retry-After, on the error page of every instance of the site
// (admin pages included: they share the sessions).
func (web *Web) sessionStoreFailed(w http.ResponseWriter, r *http.Request, err error) {
	prob := problem.From(err)
	problem.Log(r, web.log, prob, err)
	prob.SetRetryAfter(w.Header())
	title, message := errorText(r.Context(), prob)
	web.pages.SessionlessErrorPage(w, r, prob, title, message)
}
