package api

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/media"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/request"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
)

type userJSON struct {
	ID              int64   `json:"id"`
	Email           string  `json:"email"`
	Nickname        string  `json:"nickname"`
	Phone           *string `json:"phone"`
	ProfileImageURL *string `json:"profile_image_url"`
	CreatedAt       string  `json:"created_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type signUpRequest struct {
	Email    string  `json:"email"`
	Nickname string  `json:"nickname"`
	Password string  `json:"password"`
	Phone    *string `json:"phone"`
}

func (api *API) signUp(w http.ResponseWriter, r *http.Request) {
	in, err := readSignUp(w, r)
	if err != nil {
		api.fail(w, r, err)
		return
	}
	u, err := api.app.Accounts.SignUp(r.Context(), in, request.ClientAddr(r))
	if err != nil {
		api.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/users/search/"+u.Nickname)
	writeJSON(w, http.StatusCreated, userJSON{
		ID: u.ID, Email: u.Email, Nickname: u.Nickname, Phone: nullable(u.Phone),
		ProfileImageURL: nullable(media.ProfileImagePath(u.ProfileImage)),
		CreatedAt:       formatTime(u.CreatedAt),
	})
}

// readSignUp accepts JSON, or multipart/form-data carrying an optional profile_image file.
func readSignUp(w http.ResponseWriter, r *http.Request) (app.SignUpInput, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		var req signUpRequest
		if err := decodeJSON(w, r, &req, false); err != nil {
			return app.SignUpInput{}, err
		}
		in := app.SignUpInput{SignUpForm: users.SignUpForm{Email: req.Email, Nickname: req.Nickname, Password: req.Password}}
		if req.Phone != nil {
			in.Phone = *req.Phone
		}
		return in, nil
	}
	if err := request.ReadForm(r); err != nil {
		if errors.Is(err, problem.ErrPayloadTooLarge) {
			return app.SignUpInput{}, err
		}
		return app.SignUpInput{}, fmt.Errorf("%w: malformed multipart body", problem.ErrUnsupportedMediaType)
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	return request.SignUpForm(r, request.AsSent)
}

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokensJSON struct {
	Access    string `json:"access"`
	Refresh   string `json:"refresh,omitempty"`
	TokenType string `json:"token_type"`
	ExpiresIn int    `json:"expires_in"`
}

func (api *API) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		api.fail(w, r, err)
		return
	}
	fields := map[string]string{}
	if strings.TrimSpace(req.Email) == "" {
		fields[users.FieldEmail] = "email is required"
	}
	if req.Password == "" {
		fields[users.FieldPassword] = "password is required"
	}
	if len(fields) > 0 {
		api.fail(w, r, &app.ValidationError{Fields: fields})
		return
	}
	pair, err := api.app.Accounts.SignIn(r.Context(), req.Email, req.Password, request.ClientAddr(r))
	if err != nil {
		api.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokensJSON{
		Access: pair.Access, Refresh: pair.Refresh, TokenType: "Bearer",
		ExpiresIn: int(pair.AccessExpiresIn.Seconds()),
	})
}

type refreshRequest struct {
	Refresh string `json:"refresh"`
	// The original service's clients send this misspelt name.
	RefeshToken string `json:"refesh_token"`
}

func (req refreshRequest) token() string {
	if req.Refresh != "" {
		return req.Refresh
	}
	return req.RefeshToken
}

func (api *API) signOut(w http.ResponseWriter, r *http.Request, p app.Player) {
	var req refreshRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		api.fail(w, r, err)
		return
	}
	if err := api.app.Accounts.SignOut(r.Context(), p, req.token()); err != nil {
		api.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"detail": "signed out: every token of this player is revoked"})
}

type accessRequest struct {
	Refresh string `json:"refresh"`
}

func (api *API) refresh(w http.ResponseWriter, r *http.Request) {
	var req accessRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		api.fail(w, r, err)
		return
	}
	access, err := api.app.Accounts.RefreshAccess(r.Context(), req.Refresh)
	if err != nil {
		api.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokensJSON{
		Access: access.Token, TokenType: "Bearer", ExpiresIn: int(access.ExpiresIn.Seconds()),
	})
}

type historyJSON struct {
	ID        int64   `json:"id"`
	Level     int     `json:"level"`
	Status    string  `json:"status"`
	Score     int     `json:"score"`
	EnterTime string  `json:"enter_time"`
	EndTime   *string `json:"end_time"`
	TimeLimit int     `json:"time_limit"`
}

type searchJSON struct {
	Nickname   string        `json:"nickname"`
	TotalScore int64         `json:"total_score"`
	TotalCount int           `json:"total_count"`
	Offset     int           `json:"offset"`
	Limit      int           `json:"limit"`
	Histories  []historyJSON `json:"histories"`
}

func (api *API) search(w http.ResponseWriter, r *http.Request, _ app.Player) {
	q := r.URL.Query()
	fields := map[string]string{}
	offset := queryInt(q.Get("offset"), 0, "offset", fields)
	limit := queryInt(q.Get("limit"), app.DefaultHistoryLimit, "limit", fields)
	if len(fields) > 0 {
		api.fail(w, r, &app.ValidationError{Fields: fields})
		return
	}
	h, err := api.app.Raids.PlayerHistory(r.Context(), mux.Vars(r)["nickname"], offset, limit)
	if err != nil {
		api.fail(w, r, err)
		return
	}
	out := searchJSON{
		Nickname: h.Nickname, TotalScore: h.TotalScore, TotalCount: h.TotalCount,
		Offset: h.Offset, Limit: h.Limit, Histories: make([]historyJSON, 0, len(h.Raids)),
	}
	for _, rd := range h.Raids {
		out.Histories = append(out.Histories, historyJSON{
			ID: rd.ID, Level: rd.Level, Status: rd.Status.String(), Score: rd.Score,
			EnterTime: formatTime(rd.EnterTime), EndTime: formatTimePtr(rd.EndTime),
			TimeLimit: int(rd.TimeLimit.Seconds()),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// queryInt parses an optional integer query parameter, noting a malformed one in fields.
func queryInt(raw string, fallback int, name string, fields map[string]string) int {
	if raw == "" {
		return fallback
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		fields[name] = name + " must be an integer"
		return fallback
	}
	return n
}
