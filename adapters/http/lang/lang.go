// Package lang picks the language of every request (the remembered choice, else
// Accept-Language) and puts its localizer in the request's context, where the pages and the
// API's error details read it. It also serves the language switch.
package lang

import (
	"net/http"
	"strings"

	"github.com/bossraid/bossraid/i18n"
)

// CookieName is the cookie that remembers a chosen language.
const CookieName = "lang"

// cookieAge is how long a choice is remembered: a year.
const cookieAge = 365 * 24 * 60 * 60

// Middleware resolves the language of each request. Answers that depend on it say so in Vary
// (static files do not).
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chosen := ""
		if c, err := r.Cookie(CookieName); err == nil {
			chosen = c.Value
		}
		tag := i18n.Match(chosen, r.Header.Get("Accept-Language"))
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			w.Header().Add("Vary", "Accept-Language")
			w.Header().Add("Vary", "Cookie")
		}
		here := r.URL.RequestURI()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			here = r.URL.Path
		}
		next.ServeHTTP(w, r.WithContext(i18n.With(r.Context(), tag, here)))
	})
}

// Switch remembers the language of the form's lang field and goes back to the form's back field (a path on
// this site). It is a plain form post, so it works without JavaScript; an unknown language
// changes nothing.
func Switch(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	next := safeNext(r.PostFormValue("back"))
	if tag, ok := i18n.Supported(r.PostFormValue("lang")); ok {
		http.SetCookie(w, &http.Cookie{
			Name: CookieName, Value: tag.String(), Path: "/", MaxAge: cookieAge,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
		})
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", next)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps the way back on this site.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) ||
		strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
