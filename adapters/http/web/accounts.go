package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bossraid/bossraid/adapters/http/htmlpage"
	"github.com/bossraid/bossraid/adapters/http/problem"
	"github.com/bossraid/bossraid/adapters/http/redirect"
	"github.com/bossraid/bossraid/adapters/http/request"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/layout"
	"github.com/bossraid/bossraid/views/page"
	"github.com/bossraid/bossraid/views/partial"
)

// Forms that come back with errors answer 422 (or the table's 409 and 429); htmx swaps those in.
const statusFormErrors = http.StatusUnprocessableEntity

func (web *Web) signUpPage(w http.ResponseWriter, r *http.Request) {
	p, signedIn, err := web.viewer(r)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	if signedIn {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	web.pages.Render(w, r, http.StatusOK, page.SignUpPage(page.SignUp{Meta: web.pages.Meta(r, p, i18n.T(r.Context(), "account.signup"), layout.NavAccount)}))
}

// signUp registers a player from the form (multipart, for the avatar) and signs them in.
func (web *Web) signUp(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "HX-Request")
	in, err := request.SignUpForm(r, request.Trimmed) // the page wrapper has read the form
	form := partial.SignUpForm{Email: in.Email, Nickname: in.Nickname, Phone: in.Phone}
	if err == nil {
		var u users.User
		u, err = web.app.Accounts.SignUp(r.Context(), in, request.ClientAddr(r))
		if err == nil {
			if err := web.sessions.SignIn(r.Context(), u); err != nil {
				web.pages.Fail(w, r, app.Player{}, err)
				return
			}
			web.pages.Flash(r, "success", i18n.T(r.Context(), "flash.welcome", i18n.Args{"Nickname": u.Nickname}))
			htmlpage.Redirect(w, r, "/")
			return
		}
	}
	prob := problem.From(err)
	if len(prob.Fields) == 0 {
		web.pages.Fail(w, r, app.Player{}, err)
		return
	}
	form.Errors = prob.Fields
	form.FormError = form.Errors[request.FieldForm]
	if form.FormError == "" && form.Errors[users.FieldProfileImage] == "" && in.ProfileImage != nil {
		form.FormError = "Please choose your avatar again: files are not kept when the form has errors."
	}
	status := statusFormErrors
	if prob.Status == http.StatusConflict {
		status = http.StatusConflict
	}
	if htmlpage.IsHTMX(r) {
		web.pages.Render(w, r, status, partial.SignUpFormView(form))
		return
	}
	web.pages.Render(w, r, status, page.SignUpPage(page.SignUp{Meta: web.pages.Meta(r, app.Player{}, i18n.T(r.Context(), "account.signup"), layout.NavAccount), Form: form}))
}

func (web *Web) signInPage(w http.ResponseWriter, r *http.Request) {
	p, signedIn, err := web.viewer(r)
	if err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	next := redirect.Local(r.URL.Query().Get("next"), r.Host)
	if signedIn {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	form := partial.SignInForm{}
	if next != "/" {
		form.Next = next
	}
	web.pages.Render(w, r, http.StatusOK, page.SignInPage(page.SignIn{Meta: web.pages.Meta(r, p, i18n.T(r.Context(), "account.signin"), layout.NavAccount), Form: form}))
}

// signIn checks the credentials (throttled like the API's, sharing its counters) and signs the
// player in, then goes on to where they were headed.
func (web *Web) signIn(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "HX-Request")
	email := strings.TrimSpace(r.PostFormValue(users.FieldEmail))
	password := r.PostFormValue(users.FieldPassword)
	next := redirect.Local(r.PostFormValue("next"), r.Host)
	form := partial.SignInForm{Email: email, Errors: map[string]string{}}
	if next != "/" {
		form.Next = next
	}
	if email == "" {
		form.Errors[users.FieldEmail] = "Enter your email."
	}
	if password == "" {
		form.Errors[users.FieldPassword] = "Enter your password."
	}
	status := statusFormErrors
	if len(form.Errors) == 0 {
		// The web keeps its own session: no API tokens, so the player's API clients stay signed in.
		u, err := web.app.Accounts.CheckCredentials(r.Context(), email, password, request.ClientAddr(r))
		if err == nil {
			if err := web.sessions.SignIn(r.Context(), u); err != nil {
				web.pages.Fail(w, r, app.Player{}, err)
				return
			}
			web.pages.Flash(r, "success", i18n.T(r.Context(), "flash.welcome_back", i18n.Args{"Nickname": u.Nickname}))
			htmlpage.Redirect(w, r, next)
			return
		}
		prob := problem.From(err)
		switch {
		case errors.Is(err, users.ErrInvalidCredentials):
			form.FormError = "Email or password is incorrect."
		case errors.Is(err, app.ErrRateLimited):
			status = http.StatusTooManyRequests
			prob.SetRetryAfter(w.Header())
			form.FormError = i18n.N(r.Context(), "signin.too_many", minutes(prob.RetryAfter))
		default:
			web.pages.Fail(w, r, app.Player{}, err)
			return
		}
	}
	if htmlpage.IsHTMX(r) {
		web.pages.Render(w, r, status, partial.SignInFormView(form))
		return
	}
	web.pages.Render(w, r, status, page.SignInPage(page.SignIn{Meta: web.pages.Meta(r, app.Player{}, i18n.T(r.Context(), "account.signin"), layout.NavAccount), Form: form}))
}

// minutes is how long to wait in whole minutes, rounded up, at least 1.
func minutes(d time.Duration) int {
	return max(1, int((d+time.Minute-1)/time.Minute))
}

// signOut ends this browser's session; with everywhere=1 it ends every session and API token
// of the player as well.
func (web *Web) signOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, signedIn, err := web.viewer(r)
	if err != nil && !errors.Is(err, app.ErrUnauthenticated) {
		web.pages.Fail(w, r, p, err)
		return
	}
	if signedIn && r.PostFormValue("everywhere") == "1" {
		if err := web.app.Accounts.SignOutEverywhere(ctx, p); err != nil {
			web.pages.Fail(w, r, p, err)
			return
		}
	}
	if err := web.sessions.SignOut(ctx); err != nil {
		web.pages.Fail(w, r, p, err)
		return
	}
	web.pages.Flash(r, "info", i18n.T(r.Context(), "flash.signed_out"))
	htmlpage.Redirect(w, r, "/")
}
