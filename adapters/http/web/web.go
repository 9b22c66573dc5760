// Package web is the HTML front door: server-rendered pages (templ) that work without
// JavaScript — plain forms, redirect after POST — and that htmx makes partial and live. It calls
// the same use cases as the JSON API and answers failures from the same error table.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/headers"
	"github.com/bossraid/bossraid/adapters/http/lang"
	"github.com/bossraid/bossraid/adapters/http/limits"
	"github.com/bossraid/bossraid/adapters/http/media"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/redirect"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/static"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/page"
)

// Config is what the web pages are built from.
type Config struct {
	App      *app.App
	Sessions *session.Manager
	Logger   *slog.Logger
	// Stop is closed at server shutdown: live streams end so the server can drain.
	Stop <-chan struct{}
	// Recheck is how often the live lobby re-reads the state when no change was announced
	// (the fallback when Redis pub/sub is down); 0 means every second.
	Recheck time.Duration
	// Heartbeat is how often an idle event stream sends a comment; 0 means every 15 seconds.
	Heartbeat time.Duration
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
	sessions *session.Manager
	log      *slog.Logger
	stop     <-chan struct{}
	cop      *http.CrossOriginProtection
	assets   *assets
	feed     *feed
	beat     time.Duration
	streams  streamSlots
}

// New builds the web pages.
func New(cfg Config) (*Web, error) {
	if cfg.App == nil || cfg.Sessions == nil {
		return nil, errors.New("web: App and Sessions are required")
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
		app: cfg.App, sessions: cfg.Sessions, log: cfg.Logger, stop: cfg.Stop,
		cop: http.NewCrossOriginProtection(), assets: as, beat: cfg.Heartbeat,
		streams: streamSlots{max: int64(cfg.MaxStreams)},
	}
	w.feed = newFeed(cfg.App, cfg.Logger, cfg.Recheck, cfg.Stop)
	w.cop.SetDenyHandler(http.HandlerFunc(w.crossOriginDenied))
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
	r.Handle("/signin", web.page(web.signInPage)).Methods(get...)
	r.Handle("/signin", web.page(web.signIn)).Methods(http.MethodPost)
	r.Handle("/signout", web.page(web.signOut)).Methods(http.MethodPost)
	r.Handle(layout.LanguagePath, web.page(lang.Switch)).Methods(http.MethodPost)
	r.Handle("/raids", web.page(web.signedIn(web.enter))).Methods(http.MethodPost)
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
			web.fail(w, r, p, err)
		case !ok:
			requireSignIn(w, r)
		default:
			h(w, r, p)
		}
	}
}

// page wraps every page and form handler: security headers, cross-origin protection of
// state-changing methods (safe methods pass), the session, then the form read within its
// limits (413 beyond them) before the handler sees it.
func (web *Web) page(h http.HandlerFunc) http.Handler {
	return headers.Page(web.cop.Handler(web.sessions.LoadAndSave(web.readForm(h))))
}

func (web *Web) readForm(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := limits.ReadForm(r); err != nil {
			p, _, _ := web.viewer(r)
			web.fail(w, r, p, err)
			return
		}
		if r.MultipartForm != nil {
			defer func() { _ = r.MultipartForm.RemoveAll() }()
		}
		h(w, r)
	}
}

// isHTMX reports whether htmx sent the request (and so wants a fragment).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// render writes a whole component, rendered first so a failure becomes a clean 500.
func (web *Web) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		web.log.ErrorContext(r.Context(), "render page", "err", err)
		http.Error(w, "something went wrong on our side", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache, private")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// redirectTo sends the browser on after a POST: 303 for plain forms, HX-Redirect for htmx (which
// would otherwise follow a 303 itself and swap the whole next page into a fragment).
func redirectTo(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// viewer is the signed-in player, if any; ok is false for visitors.
func (web *Web) viewer(r *http.Request) (p app.Player, ok bool, err error) {
	p, err = web.sessions.Player(r.Context(), web.app)
	if errors.Is(err, app.ErrUnauthenticated) {
		return app.Player{}, false, nil
	}
	return p, err == nil, err
}

// meta is the frame of a page for p (zero for visitors). It takes the flash out of the
// session, so call it before writing anything.
func (web *Web) meta(r *http.Request, p app.Player, title, nav string) layout.Meta {
	m := layout.Meta{Title: title, Nav: nav, Now: web.app.Clock.Now()}
	if p.ID != 0 {
		m.Viewer = &layout.Viewer{
			Nickname:  p.Nickname,
			AvatarURL: media.ProfileImagePath(web.sessions.ProfileImage(r.Context())),
			IsAdmin:   p.IsAdmin(),
		}
	}
	if f, ok := web.sessions.PopFlash(r.Context()); ok {
		m.Flash = &layout.Flash{Kind: f.Kind, Message: f.Message}
	}
	return m
}

func (web *Web) flash(r *http.Request, kind, message string) {
	web.sessions.PutFlash(r.Context(), session.Flash{Kind: kind, Message: message})
}

// requireSignIn sends a visitor to the sign-in page, to come back here (or, after a form, to
// the page the form was on) once signed in.
func requireSignIn(w http.ResponseWriter, r *http.Request) {
	// htmx gets HX-Redirect, a browser a 303: the answer depends on HX-Request.
	if !slices.Contains(w.Header().Values("Vary"), "HX-Request") {
		w.Header().Add("Vary", "HX-Request")
	}
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// After a form, back to the page the form was on (htmx names it), else the lobby.
		next = r.Header.Get("HX-Current-URL")
	}
	next = redirect.Local(next, r.Host)
	to := "/signin"
	if next != "/" {
		to += "?next=" + url.QueryEscape(next)
	}
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// fail answers err with a friendly page, from the one error table. Unauthenticated visitors
// are sent to sign in instead.
func (web *Web) fail(w http.ResponseWriter, r *http.Request, p app.Player, err error) {
	prob := problem.From(err)
	if prob.Status == http.StatusUnauthorized {
		requireSignIn(w, r)
		return
	}
	problem.Log(r, web.log, prob, err)
	web.errorPage(w, r, p, prob)
}

// errorPage renders a problem as a page.
func (web *Web) errorPage(w http.ResponseWriter, r *http.Request, p app.Player, prob problem.Problem) {
	prob.SetRetryAfter(w.Header())
	title, message := errorText(r.Context(), prob)
	web.render(w, r, prob.Status, page.ErrorPage(page.Error{
		Meta:   web.meta(r, p, title, ""),
		Status: prob.Status, Title: title, Message: message,
	}))
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
	web.errorPage(w, r, p, problem.From(problem.ErrRouteNotFound))
}

func (web *Web) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		problem.WriteJSON(w, r, web.log, problem.ErrMethodNotAllowed, nil)
		return
	}
	p, _, _ := web.viewer(r)
	web.errorPage(w, r, p, problem.From(problem.ErrMethodNotAllowed))
}

// crossOriginDenied answers a state-changing request from another site. It runs before the
// session is loaded, so the page shows no player.
func (web *Web) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	web.log.InfoContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	web.sessionlessErrorPage(w, r, problem.From(app.ErrForbidden),
		i18n.T(r.Context(), "error.403.title"), i18n.T(r.Context(), "error.cross_origin"))
}

// sessionStoreFailed answers a page whose session could not be loaded or saved (the session
// store is down): 503 with Retry-After, on the error page of every instance of the site
// (admin pages included: they share the sessions).
func (web *Web) sessionStoreFailed(w http.ResponseWriter, r *http.Request, err error) {
	prob := problem.From(err)
	problem.Log(r, web.log, prob, err)
	prob.SetRetryAfter(w.Header())
	title, message := errorText(r.Context(), prob)
	web.sessionlessErrorPage(w, r, prob, title, message)
}

// sessionlessErrorPage renders an error page without reading the session (none is loaded).
func (web *Web) sessionlessErrorPage(w http.ResponseWriter, r *http.Request, prob problem.Problem, title, message string) {
	var buf bytes.Buffer
	_ = page.ErrorPage(page.Error{
		Meta:   layout.Meta{Title: title, Now: web.app.Clock.Now()},
		Status: prob.Status, Title: title, Message: message,
	}).Render(r.Context(), &buf)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(prob.Status)
	_, _ = w.Write(buf.Bytes())
}
