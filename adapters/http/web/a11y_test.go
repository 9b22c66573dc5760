package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
)

// axeScript is axe-core from npm (package.json pins it; `make assets` installs it). It is
// injected by the test only: the site never serves it.
func axeScript(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing (run `make assets`): %v", err)
	}
	return string(src)
}

// axeViolation is one rule axe found broken, with the elements at fault.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axeCheck runs axe-core on the page the tab shows (WCAG 2.x A and AA and best practices).
func axeCheck(t *testing.T, tab context.Context, axe, page string) {
	t.Helper()
	do(t, tab, 10*time.Second, "inject axe", chromedp.Evaluate[chromedp.Void](axe+";void 0"))
	out := run(t, tab, 30*time.Second, "axe "+page, chromedp.Evaluate[string](`axe.run(document, {
		runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
		resultTypes: ['violations']
	}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	var violations []axeViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	for _, v := range violations {
		for _, n := range v.Nodes {
			t.Errorf("axe on %s: %s (%s, %s) at %v: %.200s", page, v.ID, v.Impact, v.Help, n.Target, n.HTML)
		}
	}
}

// leftoverEnglish lists the words in ASCII letters a Korean page shows — text and the title,
// aria-label, placeholder, alt and value of buttons — outside what stays the same in every
// language: names, units, formats, emails, code and JSON, and parts marked in another language
// (the language switch says "English" in English).
const leftoverEnglish = `(() => {
	const allowed = new Set(['Boss', 'Raid', 'TOP', 'UTC', 'API', 'JSON', 'CSV', 'PNG', 'JPEG', 'WebP', 'MiB', 'Lv',
		'Redis', 'BOSSRAID_DATA', 'bossraid', 'admin', 'grant', 'email', 'offset', 'limit', 'refresh']);
	const skip = el => el.closest('script, style, noscript, pre, code, [hidden]') ||
		(el.closest('[lang]') && el.closest('[lang]').getAttribute('lang') !== 'ko');
	const words = s => (s.replace(/[\w.+-]+@[\w.-]+/g, ' ').match(/[A-Za-z_]{2,}/g) || []).filter(w => !allowed.has(w));
	const found = [];
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		if (skip(n.parentElement)) continue;
		for (const w of words(n.textContent)) found.push(w + ' in <' + n.parentElement.tagName.toLowerCase() + '>: ' + n.textContent.trim().slice(0, 80));
	}
	for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], img[alt], button[value], input[type=submit]')) {
		if (skip(el)) continue;
		for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
			for (const w of words(el.getAttribute(a) || '')) found.push(w + ' in ' + a + ' of <' + el.tagName.toLowerCase() + '>');
		}
	}
	for (const w of words(document.title)) found.push(w + ' in the title');
	return JSON.stringify(found);
})()`

// TestBrowserAccessibilityInBothLanguages runs axe-core on every page of ours, signed out, as
// a player and as an admin, in English and in Korean: no violation. Korean pages must show no
// English left over. (Swagger UI at /api/docs is third-party and is not checked: it has
// contrast and nested-interactive findings upstream.)
func TestBrowserAccessibilityInBothLanguages(t *testing.T) {
	s := newSite(t, siteOptions{admin: true})
	ctx := context.Background()
	signUp := func(nickname, email string) app.Player {
		u, err := s.App.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{Email: email, Nickname: nickname, Password: "Raid_pass1!"}}, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return app.Player{ID: u.ID, Nickname: u.Nickname, TokenVersion: u.TokenVersion, Role: u.Role}
	}
	boss := signUp("관리자", "admin@example.com")
	if _, err := postgres.NewUsers(s.DB).SetRole(ctx, "admin@example.com", users.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	hero := signUp("용사", "hero@example.com")
	cleared, err := s.App.Raids.EnterRaid(ctx, hero, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Raids.EndRaid(ctx, hero, cleared.ID, nil); err != nil {
		t.Fatal(err)
	}
	running, err := s.App.Raids.EnterRaid(ctx, hero, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The admin waits in line, so the lobby shows a place and the leave button too.
	if _, err := s.Queue.Join(ctx, boss); err != nil {
		t.Fatal(err)
	}

	pages := map[string][]string{
		"visitor": {"/", "/signin", "/signup", "/ranking", "/no/such/page"},
		"player": {"/", "/ranking", "/players/" + url.PathEscape("용사"), fmt.Sprintf("/raids/%d", running.ID),
			fmt.Sprintf("/raids/%d", cleared.ID), "/admin"},
		"admin": {"/", "/admin", "/admin/raids", fmt.Sprintf("/admin/raids/%d", cleared.ID), "/admin/raids/players?status=success",
			"/admin/players", fmt.Sprintf("/admin/players/%d", hero.ID), "/admin/bossdata", "/admin/ranking",
			"/admin/raids?level=x", "/players/" + url.PathEscape("관리자")},
	}
	axe := axeScript(t)
	b := newBrowser(t)
	checked := 0
	for _, who := range []string{"visitor", "player", "admin"} {
		tab := b.tab()
		switch who {
		case "player":
			signInInBrowser(t, tab, s.URL, "hero@example.com")
		case "admin":
			signInInBrowser(t, tab, s.URL, "admin@example.com")
		}
		for _, lang := range []string{"en", "ko"} {
			switchLanguage(t, tab, s.URL, lang)
			for _, path := range pages[who] {
				name := fmt.Sprintf("%s %s %s", who, lang, path)
				do(t, tab, 30*time.Second, name, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("#main")))
				if got := run(t, tab, time.Second, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != lang {
					t.Errorf("%s: <html lang=%q>", name, got)
				}
				axeCheck(t, tab, axe, name)
				if lang == "ko" {
					var left []string
					_ = json.Unmarshal([]byte(run(t, tab, 5*time.Second, "leftover English", chromedp.Evaluate[string](leftoverEnglish))), &left)
					for _, l := range left {
						t.Errorf("%s shows English: %s", name, l)
					}
				}
				checked++
			}
		}
	}
	if checked != 2*(len(pages["visitor"])+len(pages["player"])+len(pages["admin"])) {
		t.Fatalf("checked %d pages", checked)
	}
	b.checkConsole(regexp.MustCompile(`status of (403|404|400)`)) // the error pages, on purpose
}

// signInInBrowser signs in through the form.
func signInInBrowser(t *testing.T, tab context.Context, base, email string) {
	t.Helper()
	do(t, tab, 10*time.Second, "sign in "+email,
		chromedp.Navigate(base+"/signin"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "Raid_pass1!"),
		chromedp.Click(sel("signin-submit")),
		chromedp.WaitVisible(sel("viewer-name")),
	)
}

// switchLanguage presses the language button of the header (when the page is not in lang yet).
func switchLanguage(t *testing.T, tab context.Context, base, lang string) {
	t.Helper()
	do(t, tab, 10*time.Second, "lobby", chromedp.Navigate(base+"/ranking"), chromedp.WaitVisible(chromedp.CSS("#main")))
	if run(t, tab, time.Second, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)) == lang {
		return
	}
	do(t, tab, 10*time.Second, "switch to "+lang,
		chromedp.Click(sel("lang-"+lang)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"] #main`)),
	)
	if got := run(t, tab, time.Second, "path", chromedp.Evaluate[string](`location.pathname`)); got != "/ranking" {
		t.Errorf("the switch went to %q, not back to the page", got)
	}
}

// TestBrowserKeyboardReachesEveryAction tabs through pages and wants every link, button and
// field focused in turn, each with a visible focus ring.
func TestBrowserKeyboardReachesEveryAction(t *testing.T) {
	s := newSite(t, siteOptions{})
	b := newBrowser(t)
	tab := b.tab()
	signUpInBrowser(t, tab, s.URL, newPlayer())
	for _, path := range []string{"/", "/signout-page-none", "/ranking"} {
		if path == "/signout-page-none" {
			do(t, tab, 10*time.Second, "enter", chromedp.Navigate(s.URL+"/"), chromedp.Click(sel("enter-0")), chromedp.WaitVisible(sel("countdown")))
			path = run(t, tab, time.Second, "raid path", chromedp.Evaluate[string](`location.pathname`))
		} else {
			do(t, tab, 10*time.Second, path, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("#main")))
		}
		want := run(t, tab, time.Second, "actions", chromedp.Evaluate[int](`[...document.querySelectorAll(
			'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, summary')].filter(el => el.getClientRects().length > 0).length`))
		var seen []string
		for i := 0; i < want+2; i++ {
			do(t, tab, time.Second, "tab", chromedp.KeyEvent("\t"))
			got := run(t, tab, time.Second, "focus", chromedp.Evaluate[string](`(() => {
				const el = document.activeElement;
				if (!el || el === document.body) return '';
				const st = getComputedStyle(el);
				const ring = el.matches(':focus-visible') && st.outlineStyle !== 'none' && parseFloat(st.outlineWidth) >= 2;
				const at = [...document.querySelectorAll('*')].indexOf(el);
				return (ring ? 'ring ' : 'NO-RING ') + at + ' ' + el.tagName.toLowerCase() + ' ' + (el.getAttribute('href') || el.getAttribute('name') || el.textContent.trim().slice(0, 30));
			})()`))
			if got == "" || slices.Contains(seen, got) {
				break
			}
			seen = append(seen, got)
			if strings.HasPrefix(got, "NO-RING") {
				t.Errorf("%s: focus is not visible on %s", path, got)
			}
		}
		if len(seen) < want {
			t.Errorf("%s: the keyboard reached %d of %d actions: %q", path, len(seen), want, seen)
		}
	}
	b.checkConsole()
}
