package web_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
)

// TestScreenshots writes PNGs of the main pages at desktop and phone widths to
// docs/screenshots. It writes files, so it runs only when asked:
//
//	SCREENSHOTS=1 go test -count=1 -run TestScreenshots ./adapters/http/web/
//	go test -count=1 -run TestScreenshots ./adapters/http/web/ -args -screenshots
var screenshots = flag.Bool("screenshots", false, "write PNGs of the main pages to docs/screenshots")

// screenshotDir is SCREENSHOTS_DIR, else docs/screenshots at the repository root.
func screenshotDir() string {
	if d := os.Getenv("SCREENSHOTS_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "docs", "screenshots")
}

var viewports = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 900, false},
	{"phone", 390, 844, true},
}

func TestScreenshots(t *testing.T) {
	if !*screenshots && os.Getenv("SCREENSHOTS") != "1" {
		t.Skip("writes docs/screenshots; run with SCREENSHOTS=1 or -args -screenshots")
	}
	if err := os.MkdirAll(screenshotDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, siteOptions{})
	short := newSite(t, siteOptions{keepData: true, bossData: shortRaids()})
	ctx := context.Background()

	// A small world: seven heroes with scores, Borin inside the raid.
	heroes := map[string]app.Player{}
	for _, name := range []string{"Aria", "Borin", "Celes", "Dain", "Elowen", "Faro", "Gwyn"} {
		u, err := s.App.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{
			Email: name + "@example.com", Nickname: name, Password: "Raid_pass1!",
		}})
		if err != nil {
			t.Fatal(err)
		}
		heroes[name] = app.Player{ID: u.ID, Nickname: u.Nickname, TokenVersion: u.TokenVersion}
	}
	clearRaids := func(name string, levels ...int) {
		for _, l := range levels {
			r, err := s.App.EnterRaid(ctx, heroes[name], l)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.App.EndRaid(ctx, heroes[name], r.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	clearRaids("Celes", 2, 2, 1)
	clearRaids("Dain", 2, 1)
	clearRaids("Elowen", 1, 1, 0)
	clearRaids("Faro", 2)
	clearRaids("Gwyn", 1, 0)
	clearRaids("Aria", 0, 1)
	inside, err := s.App.EnterRaid(ctx, heroes["Borin"], 2)
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	shoot := func(tab context.Context, name, path string, ready chromedp.CSS) {
		t.Helper()
		for _, vp := range viewports {
			var opts []chromedp.EmulateViewportOption
			if vp.mobile {
				opts = append(opts, chromedp.EmulateMobile)
			}
			do(t, tab, 10*time.Second, name,
				chromedp.EmulateViewport(vp.width, vp.height, opts...),
				chromedp.Navigate(s.URL+path),
				chromedp.WaitVisible(ready),
				chromedp.Sleep(400*time.Millisecond), // let the live stream and the countdown settle
			)
			png := run(t, tab, 10*time.Second, name, chromedp.FullScreenshot(100))
			file := filepath.Join(screenshotDir(), fmt.Sprintf("%s-%s.png", name, vp.name))
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d KiB", file, len(png)/1024)
		}
	}

	visitor := b.tab()
	shoot(visitor, "lobby-visitor", "/", sel("lobby"))
	shoot(visitor, "signup", "/signup", sel("signup-form"))
	shoot(visitor, "signin", "/signin", sel("signin-form"))
	shoot(visitor, "not-found", "/no/such/page", sel("error-page"))

	aria := b.tab()
	do(t, aria, 10*time.Second, "Aria signs in",
		chromedp.Navigate(s.URL+"/signin"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "aria@example.com"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "Raid_pass1!"),
		chromedp.Click(sel("signin-submit")),
		chromedp.WaitVisible(sel("lobby")),
	)
	shoot(aria, "lobby-busy", "/", sel("status-busy"))

	if _, err := s.App.EndRaid(ctx, heroes["Borin"], inside.ID, nil); err != nil {
		t.Fatal(err)
	}
	do(t, aria, 10*time.Second, "Aria enters",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(sel("status-free")),
		chromedp.Click(sel("enter-1")),
		chromedp.WaitVisible(sel("countdown")),
	)
	raidPath := run(t, aria, time.Second, "raid path", chromedp.Evaluate[string](`location.pathname`))
	shoot(aria, "raid", raidPath, sel("countdown"))
	do(t, aria, 10*time.Second, "Aria clears", chromedp.Click(sel("clear")), chromedp.WaitVisible(sel("score-gained")))
	shoot(aria, "raid-cleared", raidPath, sel("score-gained"))
	shoot(aria, "ranking", "/ranking", sel("ranking"))
	shoot(aria, "player", "/players/Aria", sel("history"))

	// A raid entered under a two-second limit (on an instance with that data) that ran out.
	failed, err := short.App.EnterRaid(ctx, heroes["Aria"], 2)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	shoot(aria, "raid-failed", fmt.Sprintf("/raids/%d", failed.ID), sel("failed"))
	b.checkConsole(regexp.MustCompile(`status of 404`)) // the not-found page, on purpose
}
