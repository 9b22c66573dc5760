// Package http puts the front doors together: the JSON API, the web pages, static files, health
// checks and the middleware every request passes through. gorilla/mux stays inside this folder.
package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/api"
	"github.com/bossraid/bossraid/adapters/http/clientip"
	"github.com/bossraid/bossraid/adapters/http/lang"
	"github.com/bossraid/bossraid/adapters/http/media"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/request"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/ports"
)

// Check is one dependency readiness depends on.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// FrontDoor is a set of routes (the web UI, the admin pages) added to the server's router.
type FrontDoor interface {
	Register(r *mux.Router)
}

// Config is what the server is built from.
type Config struct {
	App    *app.App
	Queue  *app.Queue // the raid queue's use cases; nil answers its routes with 503
	Images ports.ImageStore
	Logger *slog.Logger
	// Checks are pinged by /readyz.
	Checks []Check
	// TrustProxy takes the client address from X-Forwarded-For (set it only behind a proxy):
	// the right-most address that is not in TrustedProxies.
	TrustProxy bool
	// TrustedProxies are our proxies' networks; nil means clientip.DefaultTrustedProxies.
	TrustedProxies []netip.Prefix
	// FrontDoors are added after the API, in order.
	FrontDoors []FrontDoor
	// Observe wraps every request (metrics) with its route template, "" when no route
	// matched; nil adds nothing.
	Observe func(route string, next http.Handler) http.Handler
}

// Server is the HTTP handler of one instance.
type Server struct {
	cfg          Config
	router       *mux.Router
	handler      http.Handler
	shuttingDown atomic.Bool
}

// New builds the server's handler.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, router: mux.NewRouter()}
	s.router.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)
	api.New(cfg.App, cfg.Queue, cfg.Logger).Register(s.router)
	if cfg.Images != nil {
		media.Register(s.router, cfg.Images, cfg.Logger)
	}
	for _, fd := range cfg.FrontDoors {
		fd.Register(s.router)
	}
	if s.router.NotFoundHandler == nil {
		s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem.WriteJSON(w, r, cfg.Logger, problem.ErrRouteNotFound, nil)
		})
	}
	var h http.Handler = s.router
	if cfg.Observe != nil {
		h = s.observe(h)
	}
	h = lang.Middleware(h)
	h = request.Bodies(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	if cfg.TrustProxy {
		trusted := cfg.TrustedProxies
		if trusted == nil {
			trusted, _ = clientip.ParsePrefixes(clientip.DefaultTrustedProxies)
		}
		h = clientip.Forwarded(trusted, h)
	}
	s.handler = h
	return s
}

// Connection limits of HTTPServer. Streaming routes (the live lobby, the CSV export) move their
// own deadlines on as they write, with http.ResponseController.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// DefaultWriteTimeout is how long a response other than a stream may take to be written, so a
// client that stops reading (of an avatar, a page) cannot hold its connection for ever.
const DefaultWriteTimeout = 30 * time.Second

// HTTPServer is the http.Server to run s with: bounded header and body reads, a write deadline
// for every response (writeTimeout, 0 for DefaultWriteTimeout), idle keep-alives closed.
func (s *Server) HTTPServer(addr string, writeTimeout time.Duration) *http.Server {
	if writeTimeout <= 0 {
		writeTimeout = DefaultWriteTimeout
	}
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}

// Router exposes the router so tests can list every route.
func (s *Server) Router() *mux.Router { return s.router }

// Route is one method on one path template of the server.
type Route struct {
	Method, Template string
}

// Routes lists every method and path template the router serves, for tests that try them all.
func (s *Server) Routes() []Route {
	var routes []Route
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			routes = append(routes, Route{Method: m, Template: tpl})
		}
		return nil
	})
	return routes
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ShutDown makes /readyz answer 503 so load balancers stop sending new players here.
func (s *Server) ShutDown() { s.shuttingDown.Store(true) }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.shuttingDown.Load() {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("shutting down\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var failed []string
	for _, c := range s.cfg.Checks {
		if err := c.Ping(ctx); err != nil {
			s.cfg.Logger.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err)
			failed = append(failed, c.Name)
		}
	}
	if len(failed) > 0 {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("unavailable: " + strings.Join(failed, ", ") + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// observe hands every request to cfg.Observe with its route's path template, so ids and
// nicknames never become labels; a request no route matches (an unknown path, an invented
// method) is observed under "", whatever handler answers it.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var match mux.RouteMatch
		route := ""
		if s.router.Match(r, &match) && match.MatchErr == nil && match.Route != nil {
			if tpl, err := match.Route.GetPathTemplate(); err == nil {
				route = tpl
			}
		}
		s.cfg.Observe(route, next).ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

// RequestID returns the id logged with every line of the request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush for server-sent events.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/metrics" {
			return
		}
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.cfg.Logger.Log(r.Context(), level, "request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start), "client", r.RemoteAddr)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				s.cfg.Logger.ErrorContext(r.Context(), "panic serving request", "panic", v, "path", r.URL.Path)
				problem.WriteJSON(w, r, s.cfg.Logger, errPanic, nil)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type panicError struct{}

func (panicError) Error() string { return "handler panicked" }

var errPanic = panicError{}

// WithRequestID makes every log line written with a request's context carry its request id.
func WithRequestID(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
