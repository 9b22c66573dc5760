package web_test

import (
	"database/sql"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/http/admin"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/adapters/http/web"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is this package's database in the test Redis (see internal/testenv).
const redisDB = 3

func TestMain(m *testing.M) {
	testenv.Main(m, "web")
}

// site is a whole Boss Raid instance with the web pages, over real Postgres and Redis.
type site struct {
	*testenv.Stack
	Sessions *session.Manager
	Web      *web.Web
	t        testing.TB
}

type siteOptions struct {
	bossData     *raids.BossData
	secureCookie bool
	keepData     bool // a second instance on the first one's data
	sweep        time.Duration
	admin        bool    // the admin pages too
	maxStreams   int     // live streams the instance holds; 0 for the default
	sessionDB    *sql.DB // the session store's database; nil for the stack's
}

func newSite(t testing.TB, o siteOptions) *site {
	t.Helper()
	s := &site{t: t}
	s.Stack = testenv.NewStack(t, testenv.StackOptions{
		RedisDB:       redisDB,
		BossData:      o.bossData,
		KeepData:      o.keepData,
		SweepInterval: o.sweep,
		FrontDoors: func(st *testenv.Stack) []httpserver.FrontDoor {
			db := st.DB
			if o.sessionDB != nil {
				db = o.sessionDB
			}
			s.Sessions = session.New(db, time.Hour, o.secureCookie)
			t.Cleanup(s.Sessions.Close)
			w, err := web.New(web.Config{App: st.App, Events: st.Events, Queue: st.Queue, Sessions: s.Sessions, Stop: st.Stop, MaxStreams: o.maxStreams})
			if err != nil {
				t.Fatal(err)
			}
			s.Web = w
			if o.admin {
				a, err := admin.New(admin.Config{App: st.App, Queue: st.Queue, Sessions: s.Sessions})
				if err != nil {
					t.Fatal(err)
				}
				return []httpserver.FrontDoor{a, w}
			}
			return []httpserver.FrontDoor{w}
		},
	})
	return s
}

// shortRaids is boss data whose raids fail after two seconds.
func shortRaids() *raids.BossData {
	d := raids.DefaultBossData()
	d.TimeLimit = 2 * time.Second
	return &d
}

var seq atomic.Int64

// player is a unique set of sign-up details.
type player struct {
	Email, Nickname, Password string
}

func newPlayer() player {
	n := seq.Add(1)
	return player{
		Email:    fmt.Sprintf("hero%d-%d@example.com", n, time.Now().UnixNano()%100000),
		Nickname: fmt.Sprintf("hero%d_%d", n, time.Now().UnixNano()%10000),
		Password: "Raid_pass1!",
	}
}

// client is one browser without JavaScript: it keeps cookies, sends same-origin headers on
// forms as browsers do, and does not follow redirects by itself.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (s *site) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &client{t: s.t, base: s.URL, hc: &http.Client{
		Jar:     jar,
		Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// page is a fetched response with its parsed HTML.
type page struct {
	resp *http.Response
	body string
	doc  *goquery.Document
}

func (p page) status() int { return p.resp.StatusCode }

func (p page) location() string { return p.resp.Header.Get("Location") }

// text is the trimmed text of what sel selects.
func (p page) text(sel string) string { return strings.TrimSpace(p.doc.Find(sel).Text()) }

// testid selects by data-testid.
func testid(id string) string { return `[data-testid="` + id + `"]` }

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		c.t.Fatal(err)
	}
	return page{resp: resp, body: string(body), doc: doc}
}

func (c *client) get(path string, header ...string) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	setHeaders(req, header)
	return c.do(req)
}

// follow fetches where a redirect points.
func (c *client) follow(p page) page {
	c.t.Helper()
	if p.status() != http.StatusSeeOther && p.status() != http.StatusFound {
		c.t.Fatalf("want a redirect, got %d: %s", p.status(), short(p.body))
	}
	return c.get(p.location())
}

// post sends a form the way a browser on this site does (same-origin headers), plus header
// pairs.
func (c *client) post(path string, form url.Values, header ...string) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	setHeaders(req, header)
	return c.do(req)
}

// postMultipart sends a multipart form (the sign-up form with its avatar).
func (c *client) postMultipart(path string, fields map[string]string, file []byte, header ...string) page {
	c.t.Helper()
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		fw, err := mw.CreateFormFile("profile_image", "avatar.png")
		if err != nil {
			c.t.Fatal(err)
		}
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(b.String()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	setHeaders(req, header)
	return c.do(req)
}

func setHeaders(req *http.Request, pairs []string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		req.Header.Set(pairs[i], pairs[i+1])
	}
}

// signUp registers p through the form and lands on the lobby, signed in.
func (c *client) signUp(p player) page {
	c.t.Helper()
	res := c.postMultipart("/signup", map[string]string{
		"email": p.Email, "nickname": p.Nickname, "password": p.Password,
	}, nil)
	if res.status() != http.StatusSeeOther || res.location() != "/" {
		c.t.Fatalf("sign up: want 303 to /, got %d %q: %s", res.status(), res.location(), short(res.body))
	}
	return c.follow(res)
}

// enter enters the raid at level and returns the raid page.
func (c *client) enter(level int) page {
	c.t.Helper()
	res := c.post("/raids", url.Values{"level": {fmt.Sprint(level)}})
	if res.status() != http.StatusSeeOther || !strings.HasPrefix(res.location(), "/raids/") {
		c.t.Fatalf("enter: want 303 to the raid, got %d %q: %s", res.status(), res.location(), short(res.body))
	}
	return c.follow(res)
}

// cookie is the session cookie c holds.
func (c *client) cookie() *http.Cookie {
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == session.CookieName {
			return ck
		}
	}
	return nil
}

// short is the start of the visible text of a body, for failure messages.
func short(body string) string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	text := body
	if err == nil {
		doc.Find("head, script, style").Remove()
		text = strings.Join(strings.Fields(doc.Text()), " ")
	}
	if len(text) > 600 {
		text = text[:600] + "…"
	}
	return text
}
