package web_test

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
)

// TestScreenshots writes PNGs of the main pages at desktop and phone widths, in English and in
// Korean ("-ko" names), to docs/screenshots. Most heroes have Korean nicknames: the machine
// that takes them has no CJK font, so Hangul shows only when the pages bring their own. It writes files, so it runs only when asked:
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
	s := newSite(t, siteOptions{admin: true})
	short := newSite(t, siteOptions{keepData: true, bossData: shortRaids()})
	ctx := context.Background()

	// A small world: seven heroes with scores, 보린 inside the raid, 관리자 an admin.
	heroes := map[string]app.Player{}
	emails := map[string]string{}
	for i, name := range []string{"아리아", "보린", "Celes", "용사", "Elowen", "관리자", "Gwyn"} {
		emails[name] = fmt.Sprintf("hero%d@example.com", i+1)
		u, err := s.App.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{
			Email: emails[name], Nickname: name, Password: "Raid_pass1!",
		}}, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		heroes[name] = app.Player{ID: u.ID, Nickname: u.Nickname, TokenVersion: u.TokenVersion}
	}
	clearRaids := func(name string, levels ...int) {
		for _, l := range levels {
			r, err := s.App.Raids.EnterRaid(ctx, heroes[name], l)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.App.Raids.EndRaid(ctx, heroes[name], r.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	clearRaids("Celes", 2, 2, 1)
	clearRaids("용사", 2, 1)
	clearRaids("Elowen", 1, 1, 0)
	clearRaids("관리자", 2)
	clearRaids("Gwyn", 1, 0)
	clearRaids("아리아", 0, 1)
	if _, err := postgres.NewUsers(s.DB).SetRole(ctx, emails["관리자"], users.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	inside, err := s.App.Raids.EnterRaid(ctx, heroes["보린"], 2)
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	shootOne := func(tab context.Context, name, path string, ready chromedp.CSS) {
		t.Helper()
		for _, vp := range viewports {
			var opts []chromedp.EmulateViewportOption
			if vp.mobile {
				opts = append(opts, chromedp.EmulateMobile)
			}
			do(t, tab, 20*time.Second, name,
				chromedp.EmulateViewport(vp.width, vp.height, opts...),
				chromedp.Navigate(s.URL+path),
				chromedp.WaitVisible(ready),
				// Load every Hangul subset the page's text needs at both weights (font-display: swap
				// shows boxes until then, on a machine without a CJK font), then let the live
				// stream and the countdown settle.
				chromedp.Evaluate[chromedp.Void](`Promise.all(['400', '700'].map(w =>
					document.fonts.load(w + ' 1em "Noto Sans KR"', document.body.innerText + document.title)))
					.then(() => document.fonts.ready).then(() => new Promise(r => setTimeout(r, 400)))`, chromedp.EvalAwaitPromise),
			)
			png := run(t, tab, 10*time.Second, name, chromedp.FullScreenshot(100))
			file := filepath.Join(screenshotDir(), fmt.Sprintf("%s-%s.png", name, vp.name))
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d KiB", file, len(png)/1024)
		}
	}
	// shoot takes the page in each language's tab: name-desktop.png in English,
	// name-ko-desktop.png in Korean.
	shoot := func(tabs []context.Context, name, path string, ready chromedp.CSS) {
		t.Helper()
		for i, tab := range tabs {
			file := name
			if i == 1 {
				file += "-ko"
			}
			shootOne(tab, file, path, ready)
		}
	}

	visitor := []context.Context{b.tab(), b.tab()}
	switchLanguage(t, visitor[1], s.URL, "ko")
	shoot(visitor, "lobby-visitor", "/", sel("lobby"))
	shoot(visitor, "signup", "/signup", sel("signup-form"))
	shoot(visitor, "signin", "/signin", sel("signin-form"))
	shoot(visitor, "not-found", "/no/such/page", sel("error-page"))

	aria := []context.Context{b.tab(), b.tab()}
	for _, tab := range aria {
		signInInBrowser(t, tab, s.URL, emails["아리아"])
	}
	switchLanguage(t, aria[1], s.URL, "ko")
	shoot(aria, "lobby-busy", "/", sel("status-busy"))

	if _, err := s.App.Raids.EndRaid(ctx, heroes["보린"], inside.ID, nil); err != nil {
		t.Fatal(err)
	}
	do(t, aria[0], 10*time.Second, "아리아 enters",
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(sel("status-free")),
		chromedp.Click(sel("enter-1")),
		chromedp.WaitVisible(sel("countdown")),
	)
	raidPath := run(t, aria[0], time.Second, "raid path", chromedp.Evaluate[string](`location.pathname`))
	shoot(aria, "raid", raidPath, sel("countdown"))
	do(t, aria[0], 10*time.Second, "아리아 clears", chromedp.Click(sel("clear")), chromedp.WaitVisible(sel("score-gained")))
	shoot(aria, "raid-cleared", raidPath, sel("score-gained"))
	shoot(aria, "ranking", "/ranking", sel("ranking"))
	shoot(aria, "player", "/players/"+url.PathEscape("아리아"), sel("history"))

	admins := []context.Context{b.tab(), b.tab()}
	for _, tab := range admins {
		signInInBrowser(t, tab, s.URL, emails["관리자"])
	}
	switchLanguage(t, admins[1], s.URL, "ko")
	shoot(admins, "admin", "/admin", chromedp.CSS(testid("admin")))
	shoot(admins, "admin-players", "/admin/players?sort=total", chromedp.CSS(testid("players")))

	// A raid entered under a two-second limit (on an instance with that data) that ran out.
	failed, err := short.App.Raids.EnterRaid(ctx, heroes["아리아"], 2)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	shoot(aria, "raid-failed", fmt.Sprintf("/raids/%d", failed.ID), sel("failed"))
	b.checkConsole(regexp.MustCompile(`status of 404`)) // the not-found page, on purpose
}
