package admin_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/http/admin"
	"github.com/bossraid/bossraid/core/users"
	views "github.com/bossraid/bossraid/views/admin"
)

// back is where a visitor returns after signing in: the page itself, or the page a form is on.
func back(r admin.Route) string {
	switch r.Path {
	case views.PathBossDataReload:
		return views.PathBossData
	case views.PathRankingRebuild:
		return views.PathRanking
	}
	return r.Path
}

func (c *client) send(r admin.Route) page {
	c.t.Helper()
	if r.Method == http.MethodPost {
		return c.post(r.Path, url.Values{})
	}
	return c.get(r.Path)
}

// Every admin route, page, export and action alike: visitors are sent to sign in and come
// back, players get 403, admins get through.
func TestEveryAdminRouteLetsOnlyAdminsIn(t *testing.T) {
	s := newSite(t)
	boss, hero := s.signUp("boss"), s.signUp("hero")
	s.setRole(boss, users.RoleAdmin)
	bossBrowser, heroBrowser := s.signedIn(boss), s.signedIn(hero)
	// Raid 1 and player 1 exist, so detail pages have something to show.
	if res := heroBrowser.post("/raids", url.Values{"level": {"0"}}); res.status() != http.StatusSeeOther {
		t.Fatalf("enter a raid: %d %s", res.status(), short(res.body))
	}

	for _, r := range admin.Routes() {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			visitor := s.client()
			res := visitor.send(r)
			want := "/signin?next=" + url.QueryEscape(back(r))
			if res.status() != http.StatusSeeOther || res.location() != want {
				t.Fatalf("visitor: %d to %q, want 303 to %q", res.status(), res.location(), want)
			}

			res = heroBrowser.send(r)
			if res.status() != http.StatusForbidden || res.attr(testid("error-page"), "data-status") != "403" {
				t.Fatalf("player: %d %s, want the 403 page", res.status(), short(res.body))
			}
			if res.doc.Find(testid("raids")+", "+testid("players")+", "+testid("levels")).Length() != 0 ||
				strings.Contains(res.body, boss.Email) {
				t.Fatalf("the 403 page shows admin data: %s", short(res.body))
			}

			res = bossBrowser.send(r)
			switch {
			case r.Method == http.MethodPost:
				if res.status() != http.StatusSeeOther || res.location() != back(r) {
					t.Fatalf("admin: %d to %q, want 303 to %s", res.status(), res.location(), back(r))
				}
			case r.Path == views.PathRaidsCSV:
				if res.status() != http.StatusOK || !strings.HasPrefix(res.resp.Header.Get("Content-Type"), "text/csv") ||
					!strings.HasPrefix(res.resp.Header.Get("Content-Disposition"), "attachment;") {
					t.Fatalf("admin export: %d %v", res.status(), res.resp.Header)
				}
			default:
				if res.status() != http.StatusOK || res.doc.Find(testid("admin")).Length() != 1 {
					t.Fatalf("admin: %d %s", res.status(), short(res.body))
				}
				if res.attr(`.site-nav a[href="/admin"]`, "aria-current") != "page" {
					t.Fatalf("the Admin link is not the current section")
				}
			}
		})
	}
}

// htmx follows a 303 itself and would swap the sign-in page into a fragment: a visitor's htmx
// request to any admin route is told to go there with HX-Redirect, as the web pages do, and
// the answer varies by HX-Request either way.
func TestVisitorsHTMXRequestsAreSentToSignIn(t *testing.T) {
	s := newSite(t)
	for _, r := range admin.Routes() {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			want := "/signin?next=" + url.QueryEscape(back(r))
			var res page
			if r.Method == http.MethodPost {
				res = s.client().post(r.Path, url.Values{}, "HX-Request", "true")
			} else {
				res = s.client().get(r.Path, "HX-Request", "true")
			}
			if res.status() != http.StatusNoContent || res.resp.Header.Get("HX-Redirect") != want {
				t.Fatalf("htmx visitor: %d HX-Redirect %q, want 204 to %q", res.status(), res.resp.Header.Get("HX-Redirect"), want)
			}
			if !slices.Contains(res.resp.Header.Values("Vary"), "HX-Request") {
				t.Fatalf("htmx visitor: Vary %q lacks HX-Request", res.resp.Header.Values("Vary"))
			}
			if plain := s.client().send(r); !slices.Contains(plain.resp.Header.Values("Vary"), "HX-Request") {
				t.Fatalf("visitor: Vary %q lacks HX-Request", plain.resp.Header.Values("Vary"))
			}
		})
	}
}

// A visitor sent to sign in lands back on the admin page they asked for.
func TestSignInLeadsBackToTheAdminPage(t *testing.T) {
	s := newSite(t)
	boss := s.signUp("boss")
	s.setRole(boss, users.RoleAdmin)
	c := s.client()
	asked := views.PathRaids + "?status=fail&sort=oldest"
	res := c.get(asked)
	if res.status() != http.StatusSeeOther {
		t.Fatalf("visitor: %d", res.status())
	}
	form := c.follow(res)
	next := form.attr(`input[name="next"]`, "value")
	if next != asked {
		t.Fatalf("the sign-in form carries next=%q, want %q", next, asked)
	}
	res = c.post("/signin", url.Values{"email": {boss.Email}, "password": {password}, "next": {next}})
	if res.status() != http.StatusSeeOther || res.location() != asked {
		t.Fatalf("after signing in: %d to %q, want %q", res.status(), res.location(), asked)
	}
	if p := c.follow(res); p.status() != http.StatusOK || p.attr(`select[name="sort"] option[selected]`, "value") != "oldest" {
		t.Fatalf("the raids page: %d %s", p.status(), short(p.body))
	}
}

// Actions sent from another site are refused before anything runs, even for an admin.
func TestAdminActionsRefuseOtherSites(t *testing.T) {
	s := newSite(t)
	boss := s.signUp("boss")
	s.setRole(boss, users.RoleAdmin)
	c := s.signedIn(boss)
	for _, path := range []string{views.PathBossDataReload, views.PathRankingRebuild} {
		res := c.post(path, url.Values{}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if res.status() != http.StatusForbidden {
			t.Fatalf("cross-site POST %s: %d", path, res.status())
		}
		if page := c.ok(back(admin.Route{Path: path})); page.doc.Find(testid("flash")).Length() != 0 {
			t.Fatalf("a refused %s still reported: %s", path, page.text(testid("flash")))
		}
	}
}

// The Admin link is only in admins' headers, and a revoked admin is let in no more.
func TestRevokedAdminsAreRefused(t *testing.T) {
	s := newSite(t)
	boss := s.signUp("boss")
	c := s.signedIn(boss)
	if c.ok("/").doc.Find(`.site-nav a[href="/admin"]`).Length() != 0 {
		t.Fatal("a player sees the Admin link")
	}
	s.setRole(boss, users.RoleAdmin)
	waitForStatus(t, c, views.PathDashboard, http.StatusOK)
	if c.ok("/").doc.Find(`.site-nav a[href="/admin"]`).Length() != 1 {
		t.Fatal("an admin does not see the Admin link")
	}
	s.setRole(boss, users.RolePlayer)
	waitForStatus(t, c, views.PathDashboard, http.StatusForbidden)
	if res := c.post(views.PathRankingRebuild, url.Values{}); res.status() != http.StatusForbidden {
		t.Fatalf("a revoked admin's action: %d", res.status())
	}
}

// waitForStatus asks for path until it answers status: a role change reaches every
// instance's cache through the database's notifications, a moment after it commits.
func waitForStatus(t *testing.T, c *client, path string, status int) {
	t.Helper()
	var got int
	for range 100 {
		if got = c.get(path).status(); got == status {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s still answers %d, want %d", path, got, status)
}
