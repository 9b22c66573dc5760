// Package problem is the one table that turns errors into HTTP answers, shared by the JSON API
// and the web pages so both front doors agree on what every failure means.
package problem

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/ports"
)

// Errors raised by the HTTP layer itself.
var (
	ErrInvalidJSON          = errors.New("request body is not valid JSON")
	ErrPayloadTooLarge      = errors.New("request body is too large")
	ErrUnsupportedMediaType = errors.New("unsupported content type")
	ErrRouteNotFound        = errors.New("no such resource")
	ErrMethodNotAllowed     = errors.New("method not allowed")
)

// Problem is an error as the client sees it.
type Problem struct {
	Status     int
	Code       string
	Detail     string
	Fields     map[string]string // which fields are at fault, if any
	RetryAfter time.Duration     // sent as Retry-After when set
}

// unavailableRetry is what clients are told to wait when a dependency is down.
const unavailableRetry = 2 * time.Second

var table = []struct {
	err    error
	status int
	code   string
	detail string // "" means: the error's own message is safe to show
	field  string // the field at fault, when the error is about one
}{
	{app.ErrValidation, http.StatusBadRequest, "validation_failed", "some fields are invalid", ""},
	{ErrInvalidJSON, http.StatusBadRequest, "invalid_json", "", ""},
	{app.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", "a valid access token is required", ""},
	{users.ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials", "", ""},
	{app.ErrForbidden, http.StatusForbidden, "forbidden", "you are not allowed to do that", ""},
	{users.ErrNotFound, http.StatusNotFound, "not_found", "", ""},
	{raids.ErrNotFound, http.StatusNotFound, "not_found", "", ""},
	{ErrRouteNotFound, http.StatusNotFound, "not_found", "", ""},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed", "", ""},
	{users.ErrEmailTaken, http.StatusConflict, "email_taken", "", users.FieldEmail},
	{users.ErrNicknameTaken, http.StatusConflict, "nickname_taken", "", users.FieldNickname},
	{raids.ErrBusy, http.StatusConflict, "raid_busy", "another player is inside the boss raid", ""},
	{raids.ErrExpired, http.StatusConflict, "raid_expired", "the raid's time limit has passed; it is recorded as failed", ""},
	{raids.ErrNotInProgress, http.StatusConflict, "raid_not_in_progress", "", ""},
	{raids.ErrReserved, http.StatusConflict, "raid_reserved", "", ""},
	{raids.ErrRaidFree, http.StatusConflict, "raid_free", "", ""},
	{raids.ErrAlreadyQueued, http.StatusConflict, "already_queued", "", ""},
	{raids.ErrInsideRaid, http.StatusConflict, "already_inside", "", ""},
	{raids.ErrNotQueued, http.StatusNotFound, "not_queued", "", ""},
	{ErrPayloadTooLarge, http.StatusRequestEntityTooLarge, "payload_too_large", "", ""},
	{ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type", "", ""},
	{app.ErrRateLimited, http.StatusTooManyRequests, "rate_limited", "too many attempts; try again later", ""},
	{ports.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable; try again shortly", ""},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable; try again shortly", ""},
	// The client went away: nobody reads the answer, and it is no failure of ours (nginx's 499).
	{context.Canceled, StatusClientClosedRequest, "client_closed_request", "the client closed the request", ""},
}

// StatusClientClosedRequest is nginx's status for a request its client abandoned.
const StatusClientClosedRequest = 499

// From turns err into what the client is told. Unknown errors are 500 with no internals.
func From(err error) Problem {
	for _, row := range table {
		if !errors.Is(err, row.err) {
			continue
		}
		p := Problem{Status: row.status, Code: row.code, Detail: row.detail}
		if p.Detail == "" {
			p.Detail = firstMessage(err, row.err)
		}
		if row.field != "" {
			p.Fields = map[string]string{row.field: p.Detail}
		}
		if ve, ok := errors.AsType[*app.ValidationError](err); ok {
			p.Fields = maps.Clone(ve.Fields)
		}
		if rl, ok := errors.AsType[*app.RateLimitedError](err); ok {
			p.RetryAfter = rl.RetryAfter
		}
		if p.Status == http.StatusServiceUnavailable {
			p.RetryAfter = unavailableRetry
		}
		return p
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "something went wrong on our side"}
}

// firstMessage prefers the wrapping message when it only adds detail the client can use
// (e.g. "unknown field x"), and the sentinel's own otherwise.
func firstMessage(err, sentinel error) string {
	if errors.Is(sentinel, ErrInvalidJSON) || errors.Is(sentinel, ErrPayloadTooLarge) || errors.Is(sentinel, ErrUnsupportedMediaType) {
		return err.Error()
	}
	return sentinel.Error()
}

// Body is the JSON shape of every API error.
type Body struct {
	Code   string            `json:"code"`
	Detail string            `json:"detail"`
	Errors map[string]string `json:"errors,omitempty"`
}

// SetRetryAfter sets the Retry-After header when p asks for it, in whole seconds rounded up.
func (p Problem) SetRetryAfter(h http.Header) {
	if p.RetryAfter <= 0 {
		return
	}
	secs := int((p.RetryAfter + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.Itoa(secs))
}

// WriteJSON answers err in the API's error shape, with extra members beside code and detail.
// Server errors are logged with the request's logger; clients never see their text.
func WriteJSON(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, extra map[string]any) {
	p := From(err)
	Log(r, log, p, err)
	p.SetRetryAfter(w.Header())
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bossraid"`)
	}
	// The code is the contract; the words follow the request's language (Accept-Language).
	loc := i18n.From(r.Context())
	body := map[string]any{"code": p.Code, "detail": loc.Detail(p.Detail)}
	if len(p.Fields) > 0 {
		fields := make(map[string]string, len(p.Fields))
		for k, v := range p.Fields {
			fields[k] = loc.Detail(v)
		}
		body["errors"] = fields
	}
	maps.Copy(body, extra)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// Log records server-side failures; client mistakes are not worth a log line above debug.
func Log(r *http.Request, log *slog.Logger, p Problem, err error) {
	switch {
	case p.Status >= 500:
		log.ErrorContext(r.Context(), "request failed", "status", p.Status, "err", err)
	default:
		log.DebugContext(r.Context(), "request refused", "status", p.Status, "code", p.Code, "err", err)
	}
}
