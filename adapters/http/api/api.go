// Package api is the JSON front door: it decodes requests, calls the use cases in core/app and
// encodes their answers in the shapes of SPEC.md §2.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/request"
	"github.com/bossraid/bossraid/core/app"
)

// Request body limits of SPEC.md §2 (the server caps every body at these before any handler).
const (
	MaxJSONBody      = request.MaxJSON
	MaxMultipartBody = request.MaxMultipart
)

// API serves /api.
type API struct {
	app   *app.App
	queue *app.Queue // nil: the queue's routes answer 503
	log   *slog.Logger
}

// New builds the JSON API around the use cases.
func New(a *app.App, q *app.Queue, log *slog.Logger) *API {
	return &API{app: a, queue: q, log: log}
}

// Route is one JSON route; the OpenAPI document is checked against this list.
type Route struct {
	Method, Path string
}

// route is one entry of the registration table, its path relative to /api.
type route struct {
	method, path string
	h            http.HandlerFunc
}

// routes is every JSON route; Register adds them and Routes lists them. Building it touches
// nothing of api, so Routes can list it without an API.
func (api *API) routes() []route {
	return []route{
		{http.MethodPost, "/users/signup", api.signUp},
		{http.MethodPost, "/users/signin", api.signIn},
		{http.MethodPost, "/users/signout", api.authed(api.signOut)},
		{http.MethodPost, "/users/token/refresh", api.refresh},
		{http.MethodGet, "/users/search/{nickname}", api.authed(api.search)},
		{http.MethodPost, "/raids/enter", api.authed(api.enter)},
		{http.MethodPatch, "/raids/{id:[0-9]+}/end", api.authed(api.end)},
		{http.MethodGet, "/raids/status", api.authed(api.status)},
		{http.MethodGet, "/raids/ranking", api.authed(api.ranking)},
		{http.MethodPost, "/raids/queue", api.authed(api.joinQueue)},
		{http.MethodDelete, "/raids/queue", api.authed(api.leaveQueue)},
	}
}

// Routes lists every route Register adds, relative to the server root, with the path
// parameters as OpenAPI writes them ({id}, not mux's {id:[0-9]+}).
func Routes() []Route {
	var out []Route
	for _, rt := range (&API{}).routes() {
		out = append(out, Route{rt.method, prefix + strings.ReplaceAll(rt.path, ":[0-9]+}", "}")})
	}
	return out
}

// prefix is where the JSON routes live.
const prefix = "/api"

// Register adds the JSON routes to r (the server's root router).
func (api *API) Register(r *mux.Router) {
	s := r.PathPrefix(prefix).Subrouter()
	routes := api.routes()
	for _, rt := range routes {
		s.HandleFunc(rt.path, rt.h).Methods(rt.method)
	}
	// gorilla/mux loses a subrouter's "method mismatch" when a later route fails on its path,
	// so each path also gets a catch-all after the real routes, answering 405 itself.
	allow := map[string][]string{}
	for _, rt := range routes {
		allow[rt.path] = append(allow[rt.path], rt.method)
	}
	for _, rt := range routes {
		methods, first := allow[rt.path]
		if !first {
			continue
		}
		delete(allow, rt.path)
		s.HandleFunc(rt.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			api.fail(w, r, problem.ErrMethodNotAllowed)
		})
	}
	s.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.fail(w, r, problem.ErrRouteNotFound)
	})
}

// authed runs h with the player the bearer token names, or answers 401.
func (api *API) authed(h func(http.ResponseWriter, *http.Request, app.Player)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			api.fail(w, r, app.ErrUnauthenticated)
			return
		}
		p, err := api.app.Accounts.Authenticate(r.Context(), token)
		if err != nil {
			api.fail(w, r, err)
			return
		}
		h(w, r, p)
	}
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func (api *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	problem.WriteJSON(w, r, api.log, err, nil)
}

func (api *API) failWith(w http.ResponseWriter, r *http.Request, err error, extra map[string]any) {
	problem.WriteJSON(w, r, api.log, err, extra)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a JSON body strictly into dst: only application/json, at most 64 KiB, one
// object, no unknown or duplicate members, names matched exactly. Wrong types are reported
// per field as validation errors; everything else about the syntax is invalid_json.
// An empty body decodes as {} when allowEmpty is set.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	if r.ContentLength == 0 && allowEmpty && r.Header.Get("Content-Type") == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return fmt.Errorf("%w: send the body as application/json", problem.ErrUnsupportedMediaType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return fmt.Errorf("%w: the limit is 64 KiB", problem.ErrPayloadTooLarge)
		}
		return fmt.Errorf("%w: %v", problem.ErrInvalidJSON, err)
	}
	if len(strings.TrimSpace(string(body))) == 0 && allowEmpty {
		return nil
	}
	return unmarshalStrict(body, dst)
}

func unmarshalStrict(body []byte, dst any) error {
	err := jsonv2.Unmarshal(body, dst, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	se, ok := errors.AsType[*jsonv2.SemanticError](err)
	if !ok {
		// Syntax: malformed, trailing data, duplicate names, invalid UTF-8.
		return fmt.Errorf("%w: %s", problem.ErrInvalidJSON, strings.TrimPrefix(err.Error(), "jsontext: "))
	}
	field := strings.TrimPrefix(string(se.JSONPointer), "/")
	switch {
	case field == "":
		return fmt.Errorf("%w: expected a JSON object", problem.ErrInvalidJSON)
	case errors.Is(se.Err, jsonv2.ErrUnknownName):
		return app.Invalid(field, "unknown field")
	case strings.Contains(se.Error(), "out of range"):
		return app.Invalid(field, "number is out of range")
	case se.GoType == nil:
		return app.Invalid(field, "has the wrong type")
	}
	switch k := se.GoType.Kind(); {
	case k >= reflect.Int && k <= reflect.Uint64:
		return app.Invalid(field, "must be an integer")
	case k == reflect.String:
		return app.Invalid(field, "must be a string")
	default:
		return app.Invalid(field, "has the wrong type")
	}
}

// timeLayout formats times as RFC 3339 in UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}
