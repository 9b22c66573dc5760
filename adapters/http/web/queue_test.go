package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The raid queue without JavaScript: plain forms, a flash, and a page that reloads itself
// while its player waits.
func TestQueueWorksWithoutJavaScript(t *testing.T) {
	s := newSite(t, siteOptions{})
	a, b, c := s.client(), s.client(), s.client()
	pa, pb := newPlayer(), newPlayer()
	a.signUp(pa)
	b.signUp(pb)
	c.signUp(newPlayer())

	// Free and nobody waiting: no line to join, and joining anyway says to just enter.
	if lobby := b.get("/"); lobby.doc.Find(testid("queue-join")).Length() != 0 || lobby.doc.Find(testid("queue-empty")).Length() != 1 {
		t.Fatalf("free lobby offers the line: %s", short(lobby.body))
	}
	if got := b.follow(b.post("/raids/queue", nil)).text(testid("flash")); !strings.Contains(got, "just enter") {
		t.Errorf("joining a free raid: flash %q", got)
	}

	raid := a.enter(0)
	lobby := b.get("/")
	if lobby.doc.Find(testid("queue-join")).Length() != 1 {
		t.Fatalf("busy lobby does not offer the line: %s", short(lobby.body))
	}
	res := b.post("/raids/queue", nil)
	if res.status() != http.StatusSeeOther || res.location() != "/" {
		t.Fatalf("join: %d %q", res.status(), res.location())
	}
	lobby = b.follow(res)
	if got := lobby.text(testid("flash")); !strings.Contains(got, "#1 in line") {
		t.Errorf("join flash %q", got)
	}
	if got := lobby.text(testid("queue-position")); !strings.Contains(got, "#1 in line (1 waiting)") {
		t.Errorf("position %q", got)
	}
	if !strings.Contains(lobby.body, `<meta http-equiv="refresh" content="5">`) {
		t.Error("a waiting player's page without JavaScript does not reload itself")
	}
	if got := c.get("/").text(testid("queue-length")); !strings.Contains(got, "1 player waits") {
		t.Errorf("the line's length for others: %q", got)
	}

	// A clears: it is B's turn. C's buttons are disabled and forcing one is refused.
	end, _ := raid.doc.Find(`form[action$="/end"]`).Attr("action")
	a.follow(a.post(end, nil))
	lobby = b.get("/")
	if lobby.doc.Find(testid("queue-your-turn")).Length() != 1 {
		t.Fatalf("B's turn is not shown: %s", short(lobby.body))
	}
	if _, disabled := lobby.doc.Find(testid("enter-1")).Attr("disabled"); disabled {
		t.Error("the holder's buttons are disabled")
	}
	other := c.get("/")
	if _, disabled := other.doc.Find(testid("enter-1")).Attr("disabled"); !disabled {
		t.Error("another player may press enter during B's turn")
	}
	if got := other.text(testid("queue-holder")); !strings.Contains(got, pb.Nickname+"'s turn") {
		t.Errorf("others see %q", got)
	}
	if got := c.follow(c.post("/raids", url.Values{"level": {"1"}})).text(testid("flash")); !strings.Contains(got, "reserved") {
		t.Errorf("forced entry during B's turn: flash %q", got)
	}
	frag := c.post("/raids", url.Values{"level": {"1"}}, "HX-Request", "true")
	if frag.status() != http.StatusConflict || !strings.Contains(frag.text(testid("enter-error")), "reserved") {
		t.Errorf("htmx entry during B's turn: %d %q", frag.status(), frag.text(testid("enter-error")))
	}
	b.enter(1)

	// Leaving a line one is not in is said in the panel (htmx) or as a flash.
	if frag := c.post("/raids/queue/leave", nil, "HX-Request", "true"); frag.status() != http.StatusConflict ||
		!strings.Contains(frag.text(testid("queue-error")), "not waiting") {
		t.Errorf("htmx leave when not waiting: %d %s", frag.status(), short(frag.body))
	}
	c.follow(c.post("/raids/queue", nil))
	if got := c.follow(c.post("/raids/queue/leave", nil)).text(testid("flash")); !strings.Contains(got, "left the line") {
		t.Errorf("leave flash %q", got)
	}
}

// TestBrowserQueueTurnComesLive: A is inside, B waits in line; when A clears, B's lobby says
// it is B's turn within a second, without reloading, and B enters.
func TestBrowserQueueTurnComesLive(t *testing.T) {
	s := newSite(t, siteOptions{})
	br := newBrowser(t)
	tabA, tabB := br.tab(), br.tab()
	pa, pb := newPlayer(), newPlayer()
	signUpInBrowser(t, tabA, s.URL, pa)
	signUpInBrowser(t, tabB, s.URL, pb)
	do(t, tabA, 10*time.Second, "A enters", chromedp.Click(sel("enter-0")), chromedp.WaitVisible(sel("countdown")))

	do(t, tabB, 10*time.Second, "B waits in line",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(sel("queue-join")),
		chromedp.Click(sel("queue-join")),
		chromedp.WaitVisible(sel("queue-position")),
	)
	// Read in the page: the live stream may swap the panel in at any moment.
	if got := run(t, tabB, time.Second, "place", chromedp.Evaluate[string](
		`document.querySelector('[data-testid="queue-position"]').textContent`)); !strings.Contains(got, "#1") {
		t.Errorf("B's place %q", got)
	}
	// B's lobby is connected to the live stream before A clears.
	run(t, tabB, 5*time.Second, "B's live stream", chromedp.Poll[bool](
		`typeof htmx !== 'undefined' && document.querySelector('[sse-connect]') !== null && htmx.find('[data-testid="queue-position"]') !== null`,
		chromedp.WithPollingTimeout(4*time.Second)))
	time.Sleep(300 * time.Millisecond) // the EventSource opens after the page settles

	start := time.Now()
	do(t, tabA, 5*time.Second, "A clears", chromedp.Click(sel("clear")), chromedp.WaitVisible(sel("result")))
	cleared := time.Now()
	do(t, tabB, time.Second, "B's page says it is B's turn within 1 s of the clear, without reloading",
		chromedp.WaitVisible(sel("queue-your-turn")))
	t.Logf("A cleared (%s) → B's lobby said \"your turn\": %s after the clear", cleared.Sub(start).Round(time.Millisecond),
		time.Since(cleared).Round(time.Millisecond))
	tctx, tcancel := context.WithTimeout(tabB, time.Second)
	_, err := chromedp.Run(tctx, chromedp.Poll[bool](`document.title.startsWith('Your turn!')`, chromedp.WithPollingTimeout(900*time.Millisecond)))
	tcancel()
	if err != nil {
		t.Errorf("B's tab title %q does not tell the turn", run(t, tabB, time.Second, "title", chromedp.Evaluate[string](`document.title`)))
	}
	// B's buttons come enabled with the turn; B enters.
	pctx, cancel := context.WithTimeout(tabB, 2*time.Second)
	_, err = chromedp.Run(pctx, chromedp.Poll[bool](
		`(() => { const b = [...document.querySelectorAll('button[data-testid^="enter-"]')]; return b.length === 3 && b.every(x => !x.disabled) })()`,
		chromedp.WithPollingTimeout(1900*time.Millisecond)))
	cancel()
	if err != nil {
		t.Fatalf("B's enter buttons are not enabled for B's turn (%v)", err)
	}
	do(t, tabB, 5*time.Second, "B enters", chromedp.Click(sel("enter-1")), chromedp.WaitVisible(sel("countdown")))
	br.checkConsole()
}
