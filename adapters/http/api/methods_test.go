package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/adapters/http/api"
	"github.com/bossraid/bossraid/internal/testenv"
)

// A known route asked with another method is 405 method_not_allowed (the handlers register a
// MethodNotAllowedHandler for it), not 404: the resource exists.
func TestWrongMethodIs405(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p := e.newPlayer("Methodical")
	for _, rt := range api.Routes() {
		path := strings.NewReplacer("{nickname}", p.Nickname, "{id}", "1").Replace(rt.Path)
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if slices.Contains(api.Routes(), api.Route{Method: method, Path: rt.Path}) { // a route of its own
				continue
			}
			t.Run(method+" "+rt.Path, func(t *testing.T) {
				e := e.sub(t)
				e.problem(e.must(request{Method: method, Path: path, Token: p.Access}), http.StatusMethodNotAllowed, "method_not_allowed")
			})
		}
	}
}

func TestUnknownAPIPathIs404(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p := e.newPlayer("Lost")
	for _, path := range []string{"/api/", "/api/users", "/api/users/search/", "/api/raids/abc/end", "/api/raids/1", "/api/nothing"} {
		e.problem(e.must(request{Method: http.MethodGet, Path: path, Token: p.Access}), http.StatusNotFound, "not_found")
	}
}
