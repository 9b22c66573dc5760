package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// Hostile `next` values that a browser would turn into another site (it strips tabs and
// newlines and reads backslashes as slashes).
var hostileNext = []string{
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r\n/evil.example",
	" //evil.example",
	`/\evil.example`,
	"/%2F%2Fevil.example",
	"https://evil.example/",
	"javascript:alert(1)",
}

func TestSignInNeverRedirectsOffTheSite(t *testing.T) {
	s := newSite(t, siteOptions{})
	p := newPlayer()
	signedIn := s.client()
	signedIn.signUp(p)

	for _, next := range hostileNext {
		c := s.client()
		res := c.post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}, "next": {next}})
		if res.status() != http.StatusSeeOther || res.location() != "/" {
			t.Errorf("POST /signin next=%q: %d to %q", next, res.status(), res.location())
		}
		hx := s.client().post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}, "next": {next}}, "HX-Request", "true")
		if got := hx.resp.Header.Get("HX-Redirect"); got != "/" {
			t.Errorf("htmx POST /signin next=%q: HX-Redirect %q", next, got)
		}
		page := signedIn.get("/signin?next=" + url.QueryEscape(next))
		if page.status() != http.StatusSeeOther || page.location() != "/" {
			t.Errorf("GET /signin signed in, next=%q: %d to %q", next, page.status(), page.location())
		}
		form := s.client().get("/signin?next=" + url.QueryEscape(next))
		if v, ok := form.doc.Find(`input[name="next"]`).Attr("value"); ok {
			t.Errorf("sign-in form keeps hostile next=%q as %q", next, v)
		}
	}
}

func TestSignInRedirectAfterAFormStaysOnTheSite(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	cases := map[string]string{
		s.URL + "/ranking":            "/signin?next=%2Franking",
		"https://evil.example/x":      "/signin",
		s.URL + "//evil.example/x":    "/signin",
		"/\t/evil.example":            "/signin",
		s.URL + "/players/%2F%2Fevil": "/signin?next=%2Fplayers%2F%252F%252Fevil",
	}
	for current, want := range cases {
		res := c.post("/raids", url.Values{"level": {"0"}}, "HX-Request", "true", "HX-Current-URL", current)
		if got := res.resp.Header.Get("HX-Redirect"); got != want {
			t.Errorf("HX-Current-URL %q: HX-Redirect %q, want %q", current, got, want)
		}
	}
}
