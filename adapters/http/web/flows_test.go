package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The forms without JavaScript, through the real router, Postgres and Redis.

func TestSignUpLandsInTheLobbySignedIn(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	p := newPlayer()
	lobby := c.signUp(p)
	if lobby.status() != http.StatusOK {
		t.Fatalf("lobby: %d", lobby.status())
	}
	if got := lobby.text(testid("viewer-name")); got != p.Nickname {
		t.Errorf("header shows %q, want %q", got, p.Nickname)
	}
	if got := lobby.text(testid("flash")); !strings.Contains(got, "Welcome, "+p.Nickname) {
		t.Errorf("flash %q", got)
	}
	if lobby.doc.Find(testid("status-free")).Length() != 1 {
		t.Error("the arena should be open")
	}
	for _, level := range []string{"0", "1", "2"} {
		btn := lobby.doc.Find(testid("enter-" + level))
		if btn.Length() != 1 {
			t.Fatalf("no enter button for level %s", level)
		}
		if _, disabled := btn.Attr("disabled"); disabled {
			t.Errorf("level %s button disabled while the arena is open", level)
		}
	}
	if got := lobby.text(testid("level-1") + " .level-score"); got != "+47 pts" {
		t.Errorf("level 1 score %q", got)
	}
	if got := lobby.text(testid("mine-total")); got != "0" {
		t.Errorf("my total %q", got)
	}
	if lobby.doc.Find(testid("ranking-empty")).Length() != 1 {
		t.Error("the ranking should be empty")
	}
	// The flash is shown once.
	if again := c.get("/"); again.doc.Find(testid("flash")).Length() != 0 {
		t.Error("flash shown twice")
	}
}

func TestSignUpShowsFieldErrorsInlineAndKeepsValues(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	res := c.postMultipart("/signup", map[string]string{
		"email": "not-an-email", "nickname": "x", "password": "short", "phone": "12ab",
	}, nil)
	if res.status() != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", res.status())
	}
	for _, f := range []string{"email", "nickname", "password", "phone"} {
		if res.text(testid("error-"+f)) == "" {
			t.Errorf("no inline error for %s", f)
		}
		in := res.doc.Find("#f-" + f)
		if v, _ := in.Attr("aria-invalid"); v != "true" {
			t.Errorf("%s not marked invalid", f)
		}
		if v, _ := in.Attr("aria-describedby"); !strings.Contains(v, "f-"+f+"-error") {
			t.Errorf("%s error not linked to the input: %q", f, v)
		}
	}
	values := map[string]string{"email": "not-an-email", "nickname": "x", "phone": "12ab"}
	for f, want := range values {
		if got, _ := res.doc.Find("#f-" + f).Attr("value"); got != want {
			t.Errorf("%s kept as %q, want %q", f, got, want)
		}
	}
	if _, ok := res.doc.Find("#f-password").Attr("value"); ok {
		t.Error("the password must not be sent back")
	}
	if c.cookie() != nil && c.get("/").doc.Find(testid("viewer")).Length() != 0 {
		t.Error("signed in after a refused sign-up")
	}

	// A taken nickname and email are reported on their fields, with the others kept.
	p := newPlayer()
	s.client().signUp(p)
	res = c.postMultipart("/signup", map[string]string{
		"email": strings.ToUpper(p.Email), "nickname": "o" + p.Nickname, "password": p.Password,
	}, nil)
	if res.status() != http.StatusConflict {
		t.Fatalf("taken email: status %d", res.status())
	}
	if !strings.Contains(res.text(testid("error-email")), "already") {
		t.Errorf("email error %q", res.text(testid("error-email")))
	}
}

func TestSignUpWithAvatarShowsIt(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	p := newPlayer()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	res := c.postMultipart("/signup", map[string]string{
		"email": p.Email, "nickname": p.Nickname, "password": p.Password,
	}, buf.Bytes())
	if res.status() != http.StatusSeeOther {
		t.Fatalf("sign up: %d %s", res.status(), short(res.body))
	}
	lobby := c.follow(res)
	src, _ := lobby.doc.Find(testid("viewer") + " img").Attr("src")
	if !strings.HasPrefix(src, "/media/profile-images/") {
		t.Fatalf("header avatar %q", src)
	}
	if got := c.get(src); got.status() != http.StatusOK || got.resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("avatar: %d %s", got.status(), got.resp.Header.Get("Content-Type"))
	}
	profile := c.get("/players/" + p.Nickname)
	if psrc, _ := profile.doc.Find(testid("avatar")).Attr("src"); psrc != src {
		t.Errorf("player page avatar %q, want %q", psrc, src)
	}

	// Not an image: the error is on the field.
	bad := s.client().postMultipart("/signup", map[string]string{
		"email": "x" + p.Email, "nickname": "x" + p.Nickname, "password": p.Password,
	}, []byte("not an image at all"))
	if bad.status() != http.StatusUnprocessableEntity || bad.text(testid("error-profile_image")) == "" {
		t.Errorf("bad image: %d %q", bad.status(), bad.text(testid("error-profile_image")))
	}
}

func TestSignInSignOutAndBackToWhereYouWere(t *testing.T) {
	s := newSite(t, siteOptions{})
	p := newPlayer()
	s.client().signUp(p)

	c := s.client()
	// A play page sends a visitor to sign in, and back.
	res := c.get("/players/" + p.Nickname)
	if res.status() != http.StatusSeeOther {
		t.Fatalf("signed out player page: %d", res.status())
	}
	want := "/signin?next=" + url.QueryEscape("/players/"+p.Nickname)
	if res.location() != want {
		t.Fatalf("redirect to %q, want %q", res.location(), want)
	}
	form := c.follow(res)
	next, _ := form.doc.Find(`input[name="next"]`).Attr("value")
	if next != "/players/"+p.Nickname {
		t.Fatalf("next field %q", next)
	}

	// Missing fields and wrong password are reported, the email kept.
	bad := c.post("/signin", url.Values{"email": {""}, "password": {""}})
	if bad.status() != http.StatusUnprocessableEntity || bad.text(testid("error-email")) == "" || bad.text(testid("error-password")) == "" {
		t.Errorf("empty sign-in: %d", bad.status())
	}
	bad = c.post("/signin", url.Values{"email": {p.Email}, "password": {"Wrong-pass1!"}, "next": {next}})
	if bad.status() != http.StatusUnprocessableEntity || !strings.Contains(bad.text(testid("form-error")), "incorrect") {
		t.Errorf("wrong password: %d %q", bad.status(), bad.text(testid("form-error")))
	}
	if v, _ := bad.doc.Find("#f-email").Attr("value"); v != p.Email {
		t.Errorf("email kept as %q", v)
	}

	ok := c.post("/signin", url.Values{"email": {strings.ToUpper(p.Email)}, "password": {p.Password}, "next": {next}})
	if ok.status() != http.StatusSeeOther || ok.location() != "/players/"+p.Nickname {
		t.Fatalf("sign in: %d to %q", ok.status(), ok.location())
	}
	profile := c.follow(ok)
	if profile.text(testid("player-nickname")) != p.Nickname {
		t.Errorf("player page after sign-in: %s", short(profile.body))
	}

	// Somewhere else than this site is not a place to go back to.
	for _, evil := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`} {
		c2 := s.client()
		res := c2.post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}, "next": {evil}})
		if res.location() != "/" {
			t.Errorf("next %q: went to %q", evil, res.location())
		}
	}

	out := c.post("/signout", nil)
	if out.status() != http.StatusSeeOther || out.location() != "/" {
		t.Fatalf("sign out: %d %q", out.status(), out.location())
	}
	lobby := c.follow(out)
	if lobby.doc.Find(testid("viewer")).Length() != 0 || lobby.doc.Find(testid("signin-link")).Length() != 1 {
		t.Error("still signed in after signing out")
	}
	if !strings.Contains(lobby.text(testid("flash")), "signed out") {
		t.Errorf("flash %q", lobby.text(testid("flash")))
	}
}

func TestSignInThrottledSaysWhenToTryAgain(t *testing.T) {
	s := newSite(t, siteOptions{})
	p := newPlayer()
	s.client().signUp(p)
	c := s.client()
	var res page
	for range 11 {
		res = c.post("/signin", url.Values{"email": {p.Email}, "password": {"Wrong-pass1!"}})
	}
	if res.status() != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", res.status())
	}
	msg := res.text(testid("form-error"))
	if !strings.Contains(msg, "Too many attempts") || !strings.Contains(msg, "15 min") {
		t.Errorf("message %q", msg)
	}
	if res.resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestEnterClearAndSeeTheResult(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	p := newPlayer()
	c.signUp(p)

	raid := c.enter(1)
	if raid.status() != http.StatusOK {
		t.Fatalf("raid page: %d", raid.status())
	}
	if got, _ := raid.doc.Find(testid("raid")).Attr("data-status"); got != "in_progress" {
		t.Fatalf("raid status %q", got)
	}
	cd := raid.doc.Find(testid("countdown"))
	deadline, _ := cd.Attr("data-deadline")
	if _, err := time.Parse(time.RFC3339, deadline); err != nil {
		t.Errorf("countdown deadline %q: %v", deadline, err)
	}
	if got := cd.Text(); got != "3:00" && got != "2:59" {
		t.Errorf("countdown text %q", got)
	}
	secs, _ := strconv.Atoi(strings.Fields(raid.text(testid("seconds-left")))[0])
	if secs < 178 || secs > 180 {
		t.Errorf("server-rendered seconds left %d", secs)
	}
	path := raid.resp.Request.URL.Path

	// Reloading keeps the same deadline.
	again := c.get(path)
	if d2, _ := again.doc.Find(testid("countdown")).Attr("data-deadline"); d2 != deadline {
		t.Errorf("deadline moved on reload: %q then %q", deadline, d2)
	}

	// Entering again while inside leads back to my raid.
	if res := c.post("/raids", url.Values{"level": {"2"}}); res.status() != http.StatusSeeOther || res.location() != path {
		t.Errorf("entering twice: %d to %q, want my raid %q", res.status(), res.location(), path)
	}

	// The lobby says I am inside.
	lobby := c.get("/")
	if lobby.doc.Find(testid("status-busy")).Length() != 1 || lobby.text(testid("status-raid-link")) == "" {
		t.Error("lobby does not show me inside")
	}

	res := c.post(path+"/end", nil)
	if res.status() != http.StatusSeeOther || res.location() != path {
		t.Fatalf("clear: %d to %q", res.status(), res.location())
	}
	result := c.follow(res)
	if got, _ := result.doc.Find(testid("raid")).Attr("data-status"); got != "success" {
		t.Fatalf("after clearing, status %q", got)
	}
	if got := result.text(testid("score-gained")); got != "+47" {
		t.Errorf("score gained %q", got)
	}
	if got := result.text(testid("total")); got != "47" {
		t.Errorf("total %q", got)
	}
	if got := result.text(testid("place")); got != "#1" {
		t.Errorf("place %q", got)
	}

	// Clearing again is refused and says so.
	twice := c.follow(c.post(path+"/end", nil))
	if !strings.Contains(twice.text(testid("flash")), "already cleared") {
		t.Errorf("second clear flash %q", twice.text(testid("flash")))
	}

	lobby = c.get("/")
	if lobby.doc.Find(testid("status-free")).Length() != 1 {
		t.Error("the arena should be open again")
	}
	rows := lobby.doc.Find(testid("ranking-row"))
	if rows.Length() != 1 || strings.TrimSpace(rows.Find(testid("ranking-nickname")).Text()) != p.Nickname+" (you)" ||
		strings.TrimSpace(rows.Find(".place").Text()) != "#1" || strings.TrimSpace(rows.Find(testid("ranking-score")).Text()) != "47" {
		t.Errorf("ranking row: %q", strings.Join(strings.Fields(rows.Text()), " "))
	}
	if !rows.HasClass("me") {
		t.Error("my row is not highlighted")
	}
	if got := lobby.text(testid("mine-rank")); !strings.Contains(strings.Join(strings.Fields(got), " "), "You are #1 in the ranking") {
		t.Errorf("my rank %q", got)
	}

	// My page lists the raid.
	profile := c.get("/players/" + p.Nickname)
	if got := profile.text(testid("player-total")); got != "47" {
		t.Errorf("player total %q", got)
	}
	if got := profile.text(testid("history-status")); got != "Cleared" {
		t.Errorf("history status %q", got)
	}
}

func TestBusyRaidRefusesOthers(t *testing.T) {
	s := newSite(t, siteOptions{})
	a, b := s.client(), s.client()
	pa := newPlayer()
	a.signUp(pa)
	b.signUp(newPlayer())
	a.enter(0)

	lobby := b.get("/")
	if got := lobby.text(testid("status-nickname")); got != pa.Nickname {
		t.Errorf("B sees %q inside, want %q", got, pa.Nickname)
	}
	for _, level := range []string{"0", "1", "2"} {
		if _, disabled := lobby.doc.Find(testid("enter-" + level)).Attr("disabled"); !disabled {
			t.Errorf("level %s enterable while busy", level)
		}
	}
	// Submitting anyway (an old page) is refused with a message.
	res := b.post("/raids", url.Values{"level": {"1"}})
	if res.status() != http.StatusSeeOther || res.location() != "/" {
		t.Fatalf("busy enter: %d %q", res.status(), res.location())
	}
	if got := b.follow(res).text(testid("flash")); !strings.Contains(got, pa.Nickname+" is inside") {
		t.Errorf("flash %q", got)
	}
	// With htmx, the enter panel comes back with the reason.
	frag := b.post("/raids", url.Values{"level": {"1"}}, "HX-Request", "true")
	if frag.status() != http.StatusConflict || !strings.Contains(frag.text(testid("enter-error")), "is inside") {
		t.Errorf("htmx busy enter: %d %q", frag.status(), frag.text(testid("enter-error")))
	}
	if frag.doc.Find("html").Length() == 1 && strings.Contains(frag.body, "<html") {
		t.Error("htmx answer is a whole page")
	}
	// A level that does not exist.
	if got := b.follow(b.post("/raids", url.Values{"level": {"7"}})).text(testid("flash")); got == "" {
		t.Error("no message for an unknown level")
	}
	// Someone else's raid is not found.
	raidPage := a.get("/")
	link, _ := raidPage.doc.Find(testid("status-raid-link")).Attr("href")
	if got := b.get(link); got.status() != http.StatusNotFound || got.doc.Find(testid("error-page")).Length() != 1 {
		t.Errorf("someone else's raid: %d", got.status())
	}
	if got := b.post(link+"/end", nil); got.status() != http.StatusNotFound {
		t.Errorf("clearing someone else's raid: %d", got.status())
	}
}

func TestRaidThatRanOutSaysItFailed(t *testing.T) {
	s := newSite(t, siteOptions{bossData: shortRaids()})
	c := s.client()
	c.signUp(newPlayer())
	raid := c.enter(2)
	path := raid.resp.Request.URL.Path
	time.Sleep(2100 * time.Millisecond)

	// Reloading shows the failure, sweeper or not.
	page := c.get(path)
	if got, _ := page.doc.Find(testid("raid")).Attr("data-status"); got != "fail" {
		t.Fatalf("status %q after the deadline", got)
	}
	if !strings.Contains(page.text(testid("failed")), "failed") {
		t.Errorf("failure text %q", page.text(testid("failed")))
	}
	// Clearing it now is refused: too late.
	res := c.follow(c.post(path+"/end", nil))
	if !strings.Contains(res.text(testid("flash")), "Too late") {
		t.Errorf("flash %q", res.text(testid("flash")))
	}
	// The htmx panel says the same.
	frag := c.post(path+"/end", nil, "HX-Request", "true")
	if frag.status() != http.StatusOK || !strings.Contains(frag.text(testid("raid-notice")), "Too late") {
		t.Errorf("htmx: %d %q", frag.status(), frag.text(testid("raid-notice")))
	}
	if got := c.get("/").doc.Find(testid("status-free")).Length(); got != 1 {
		t.Error("the arena should be open after a failed raid")
	}
}

func TestRaidPageAnswersTheFragmentToHTMX(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	c.signUp(newPlayer())
	path := c.enter(0).resp.Request.URL.Path
	full := c.get(path)
	frag := c.get(path, "HX-Request", "true")
	for _, p := range []page{full, frag} {
		if vary := strings.Join(p.resp.Header.Values("Vary"), ", "); !strings.Contains(vary, "HX-Request") {
			t.Errorf("Vary %q", vary)
		}
	}
	if !strings.Contains(full.body, "<html") || strings.Contains(frag.body, "<html") {
		t.Error("full page and fragment mixed up")
	}
	if frag.doc.Find(testid("countdown")).Length() != 1 {
		t.Error("fragment has no countdown")
	}
	// The htmx clear answers the result panel in place.
	res := c.post(path+"/end", nil, "HX-Request", "true")
	if res.status() != http.StatusOK || res.text(testid("score-gained")) != "+20" {
		t.Errorf("htmx clear: %d %q", res.status(), res.text(testid("score-gained")))
	}
}

func TestPlayerPageIsPaginated(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	p := newPlayer()
	c.signUp(p)
	for range 12 {
		path := c.enter(0).resp.Request.URL.Path
		c.post(path+"/end", nil)
	}
	first := c.get("/players/" + p.Nickname)
	if got := first.doc.Find(testid("history-row")).Length(); got != 10 {
		t.Errorf("first page rows %d", got)
	}
	if got := first.text(testid("player-total")); got != "240" {
		t.Errorf("total %q", got)
	}
	if got := first.text(testid("page-of")); got != "Page 1 of 2" {
		t.Errorf("pager %q", got)
	}
	next, _ := first.doc.Find(testid("next")).Attr("href")
	second := c.get(next)
	if got := second.doc.Find(testid("history-row")).Length(); got != 2 {
		t.Errorf("second page rows %d", got)
	}
	if second.doc.Find(testid("next")).Length() != 0 || second.doc.Find(testid("prev")).Length() != 1 {
		t.Error("second page links")
	}
	if first.doc.Find(testid("signout-everywhere")).Length() != 1 {
		t.Error("my own page offers no way to sign out everywhere")
	}
	other := newPlayer()
	s.client().signUp(other)
	if c.get("/players/"+other.Nickname).doc.Find(testid("signout-everywhere")).Length() != 0 {
		t.Error("someone else's page offers to sign me out everywhere")
	}
	if got := c.get("/players/nobody-here"); got.status() != http.StatusNotFound {
		t.Errorf("unknown player: %d", got.status())
	}
}

func TestFriendlyErrorPages(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	res := c.get("/no/such/page")
	if res.status() != http.StatusNotFound || res.text(testid("error-title")) != "Nothing here" {
		t.Errorf("404: %d %q", res.status(), res.text(testid("error-title")))
	}
	if ct := res.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("404 content type %q", ct)
	}
	// The API keeps its JSON errors.
	api := c.get("/api/nothing")
	if api.status() != http.StatusNotFound || !strings.HasPrefix(api.resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API 404: %d %q", api.status(), api.resp.Header.Get("Content-Type"))
	}
	if got := c.get("/raids/1"); got.status() != http.StatusSeeOther {
		t.Errorf("signed-out raid page: %d", got.status())
	}
}

func TestRankingPageIsPublic(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	p := newPlayer()
	c.signUp(p)
	path := c.enter(2).resp.Request.URL.Path
	c.post(path+"/end", nil)

	anon := s.client().get("/ranking")
	if anon.status() != http.StatusOK {
		t.Fatalf("ranking: %d", anon.status())
	}
	if got := anon.text(testid("ranking-nickname")); got != p.Nickname {
		t.Errorf("ranking shows %q", got)
	}
	if anon.doc.Find(testid("ranking-nickname")+" a").Length() != 0 {
		t.Error("visitors get links to pages they cannot open")
	}
	mine := c.get("/ranking")
	if got := mine.text(testid("mine-total")); got != "85" {
		t.Errorf("my total %q", got)
	}
}
