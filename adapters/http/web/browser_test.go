package web_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bossraid/bossraid/static"
)

// Real headless Chromium against a real instance. These tests fail, never skip, when Chromium
// is missing: `make test` installs it (scripts/browser.sh up).

// chromiumPath is where Debian installs Chromium; CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browser is one Chromium with a fresh profile; tab opens isolated tabs in it.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if missing := static.VendorMissing(); len(missing) > 0 {
		t.Fatalf("htmx files missing from static/vendor (%v): run `make assets`", missing)
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Fatalf("Chromium is required for the browser tests (make browser, or scripts/browser.sh up): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	t.Logf("Chromium started in %s", time.Since(start).Round(time.Millisecond))
	return &browser{t: t, ctx: ctx}
}

// tab opens a tab with its own cookies (a separate browser context), recording its console.
func (b *browser) tab() context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatal(err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return ctx
}

// expectedRefusal is how the browser logs the 409, 422 and 429 answers of forms with errors.
var expectedRefusal = regexp.MustCompile(`Failed to load resource: the server responded with a status of (409|422|429)`)

// problems are console errors and exceptions, Content-Security-Policy violations among them;
// allowed are messages about what the test made happen on purpose.
func (b *browser) problems(allowed ...*regexp.Regexp) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if expectedRefusal.MatchString(m.Text) || slices.ContainsFunc(allowed, func(re *regexp.Regexp) bool { return re.MatchString(m.Text) }) {
			continue // a form answered with its errors, as designed
		}
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m.String())
		}
	}
	return out
}

// checkConsole fails the test when the pages logged errors (a CSP violation is one).
func (b *browser) checkConsole(allowed ...*regexp.Regexp) {
	b.t.Helper()
	for _, p := range b.problems(allowed...) {
		b.t.Errorf("browser console: %s", p)
	}
}

// do runs steps with a time limit for this call only.
func do(t *testing.T, ctx context.Context, limit time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := chromedp.Do(cctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](t *testing.T, ctx context.Context, limit time.Duration, what string, a chromedp.Action[T]) T {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	v, err := chromedp.Run(cctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func sel(id string) chromedp.CSS { return chromedp.CSS(testid(id)) }

// signUpInBrowser fills and sends the sign-up form and waits for the lobby.
func signUpInBrowser(t *testing.T, tab context.Context, base string, p player) {
	t.Helper()
	do(t, tab, 10*time.Second, "sign up",
		chromedp.Navigate(base+"/signup"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), p.Email),
		chromedp.SendKeys(chromedp.CSS("#f-nickname"), p.Nickname),
		chromedp.SendKeys(chromedp.CSS("#f-password"), p.Password),
		chromedp.Click(sel("signup-submit")),
		chromedp.WaitVisible(sel("lobby")),
	)
	if got := run(t, tab, 5*time.Second, "viewer", chromedp.Text(sel("viewer-name"))); got != p.Nickname {
		t.Fatalf("signed in as %q, want %q", got, p.Nickname)
	}
}

func TestBrowserSignUpEnterClearAndRank(t *testing.T) {
	s := newSite(t, siteOptions{})
	b := newBrowser(t)
	tab := b.tab()
	p := newPlayer()

	// A weak password: the form comes back in place with the error, the other values kept.
	start := time.Now()
	do(t, tab, 10*time.Second, "sign up with a weak password",
		chromedp.Navigate(s.URL+"/signup"),
		chromedp.WaitVisible(chromedp.CSS("#f-email")),
		chromedp.SendKeys(chromedp.CSS("#f-email"), p.Email),
		chromedp.SendKeys(chromedp.CSS("#f-nickname"), p.Nickname),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "weak"),
		chromedp.Click(sel("signup-submit")),
		chromedp.WaitVisible(sel("error-password")),
	)
	t.Logf("inline error shown: %s", time.Since(start).Round(time.Millisecond))
	if got := run(t, tab, time.Second, "kept nickname", chromedp.Value(chromedp.CSS("#f-nickname"))); got != p.Nickname {
		t.Errorf("nickname kept as %q", got)
	}
	if got := run(t, tab, time.Second, "password", chromedp.Value(chromedp.CSS("#f-password"))); got != "" {
		t.Errorf("password kept as %q", got)
	}
	start = time.Now()
	do(t, tab, 10*time.Second, "sign up",
		chromedp.SendKeys(chromedp.CSS("#f-password"), p.Password),
		chromedp.Click(sel("signup-submit")),
		chromedp.WaitVisible(sel("lobby")),
	)
	t.Logf("sign up → lobby: %s", time.Since(start).Round(time.Millisecond))

	step := time.Now()
	do(t, tab, 10*time.Second, "enter level 1",
		chromedp.Click(sel("enter-1")),
		chromedp.WaitVisible(sel("countdown")),
	)
	t.Logf("enter → raid page: %s", time.Since(step).Round(time.Millisecond))
	first := run(t, tab, 5*time.Second, "countdown", chromedp.Text(sel("countdown")))
	if !strings.HasPrefix(first, "2:5") && first != "3:00" {
		t.Errorf("countdown shows %q", first)
	}
	// It runs: within a little over a second it shows another time.
	run(t, tab, 5*time.Second, "countdown running", chromedp.Poll[bool](
		fmt.Sprintf(`document.querySelector('[data-testid="countdown"]').textContent !== %q`, first),
		chromedp.WithPollingTimeout(3*time.Second)))

	step = time.Now()
	do(t, tab, 10*time.Second, "clear",
		chromedp.Click(sel("clear")),
		chromedp.WaitVisible(sel("score-gained")),
	)
	t.Logf("clear → result: %s", time.Since(step).Round(time.Millisecond))
	if got := run(t, tab, 5*time.Second, "score", chromedp.Text(sel("score-gained"))); got != "+47" {
		t.Errorf("score gained %q", got)
	}
	if got := run(t, tab, 5*time.Second, "place", chromedp.Text(sel("place"))); got != "#1" {
		t.Errorf("place %q", got)
	}

	do(t, tab, 10*time.Second, "back to the lobby",
		chromedp.Click(sel("back-to-lobby")),
		chromedp.WaitVisible(sel("ranking")),
	)
	row := run(t, tab, 5*time.Second, "ranking row", chromedp.Text(sel("ranking-row")))
	if !strings.Contains(row, p.Nickname) || !strings.Contains(row, "47") || !strings.Contains(row, "#1") {
		t.Errorf("ranking row %q", row)
	}
	t.Logf("whole flow: %s", time.Since(start).Round(time.Millisecond))
	b.checkConsole()
}

func TestBrowserLobbyIsLiveForTwoPlayers(t *testing.T) {
	s := newSite(t, siteOptions{})
	b := newBrowser(t)
	tabA, tabB := b.tab(), b.tab()
	pa, pb := newPlayer(), newPlayer()
	signUpInBrowser(t, tabA, s.URL, pa)
	signUpInBrowser(t, tabB, s.URL, pb)
	// B's lobby is connected to the live stream before A moves.
	run(t, tabB, 5*time.Second, "B's live stream", chromedp.Poll[bool](
		`typeof htmx !== 'undefined' && document.querySelector('[sse-connect]') !== null && htmx.find('[data-testid="status-free"]') !== null`,
		chromedp.WithPollingTimeout(4*time.Second)))
	time.Sleep(300 * time.Millisecond) // the EventSource opens after the page settles

	start := time.Now()
	do(t, tabA, 10*time.Second, "A enters", chromedp.Click(sel("enter-0")), chromedp.WaitVisible(sel("countdown")))
	do(t, tabB, 2*time.Second, "B sees A inside within 2 s, without reloading",
		chromedp.WaitVisible(sel("status-nickname")))
	t.Logf("A entered → B's lobby showed it: %s", time.Since(start).Round(time.Millisecond))
	if got := run(t, tabB, time.Second, "who", chromedp.Text(sel("status-nickname"))); got != pa.Nickname {
		t.Errorf("B sees %q inside, want %q", got, pa.Nickname)
	}
	// B's enter buttons are all disabled (the enter panel arrives right after the status).
	pctx, cancel := context.WithTimeout(tabB, 2*time.Second)
	_, err := chromedp.Run(pctx, chromedp.Poll[bool](
		`(() => { const b = [...document.querySelectorAll('button[data-testid^="enter-"]')]; return b.length === 3 && b.every(x => x.disabled) })()`,
		chromedp.WithPollingTimeout(1900*time.Millisecond)))
	cancel()
	if err != nil {
		t.Fatalf("B's enter buttons are not all disabled (%v): %s", err,
			run(t, tabB, time.Second, "enter panel", chromedp.OuterHTML(chromedp.CSS("#enter"))))
	}
	// Even forcing the button, the server refuses B.
	do(t, tabB, 5*time.Second, "B forces an entry",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="enter-2"]').disabled = false`),
		chromedp.Click(sel("enter-2")),
		chromedp.WaitVisible(sel("enter-error")),
	)
	if got := run(t, tabB, time.Second, "refusal", chromedp.Text(sel("enter-error"))); !strings.Contains(got, pa.Nickname+" is inside") {
		t.Errorf("refusal %q", got)
	}
	if loc := run(t, tabB, time.Second, "B's location", chromedp.Location()); loc != s.URL+"/" {
		t.Errorf("B left the lobby for %q", loc)
	}
	b.checkConsole()
}

func TestBrowserRaidThatRunsOutShowsFailed(t *testing.T) {
	s := newSite(t, siteOptions{bossData: shortRaids()})
	b := newBrowser(t)
	tab := b.tab()
	signUpInBrowser(t, tab, s.URL, newPlayer())
	start := time.Now()
	do(t, tab, 10*time.Second, "enter", chromedp.Click(sel("enter-2")), chromedp.WaitVisible(sel("countdown")))
	// Nobody touches the page: at the deadline it fetches the raid again and says it failed.
	do(t, tab, 6*time.Second, "the raid shows as failed", chromedp.WaitVisible(sel("failed")))
	t.Logf("entered → failure shown: %s (limit 2 s)", time.Since(start).Round(time.Millisecond))
	status := run(t, tab, time.Second, "status", chromedp.AttributeValue(sel("raid"), "data-status"))
	if status.Value != "fail" {
		t.Errorf("raid status %q", status.Value)
	}
	if got := run(t, tab, time.Second, "text", chromedp.Text(sel("failed"))); !strings.Contains(got, "failed") {
		t.Errorf("failure text %q", got)
	}
	b.checkConsole()
}

// A lobby whose live stream is refused (the instance holds all it may) polls instead, and
// still shows a change within a few seconds.
func TestBrowserLobbyPollsWhenItsStreamIsRefused(t *testing.T) {
	s := newSite(t, siteOptions{maxStreams: 1})
	s.client().stream(s.URL) // takes the only slot
	b := newBrowser(t)
	tab := b.tab()
	signUpInBrowser(t, tab, s.URL, newPlayer())
	run(t, tab, 10*time.Second, "the lobby falls back to polling", chromedp.Poll[bool](
		`document.querySelector('[data-live="polling"]') !== null`, chromedp.WithPollingTimeout(9*time.Second)))

	hero := s.client()
	p := newPlayer()
	hero.signUp(p)
	hero.enter(0)
	do(t, tab, 5*time.Second, "the polled lobby shows the hero inside", chromedp.WaitVisible(sel("status-nickname")))
	if got := run(t, tab, time.Second, "who", chromedp.Text(sel("status-nickname"))); got != p.Nickname {
		t.Errorf("the lobby shows %q inside, want %q", got, p.Nickname)
	}
	// The refused stream, as Chromium and htmx log it.
	b.checkConsole(regexp.MustCompile(`status of 503`), regexp.MustCompile(`^\[object Event\]$`))
}
