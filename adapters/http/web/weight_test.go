package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// firstPageBudget is the most a first visit to the lobby may transfer — HTML, CSS, scripts,
// pictures and fonts, headers included, cache empty — per language (README, "Languages"). Hangul
// comes in unicode-range subsets of about 10–40 KB: the browser fetches only those the page's
// text needs (the English page needs a few too: its language switch says 한국어). Before the
// Korean work the English lobby transferred about 37 KB (no font, no font stylesheet).
var firstPageBudget = map[string]int{"en": 100 << 10, "ko": 300 << 10}

// pageWeight is what a page load transferred, by kind, from Chromium's resource timing.
type pageWeight struct {
	HTML, CSS, JS, Font, Image, Other, Total int
	Fonts                                    int // font files fetched
}

func TestBrowserFirstPageWeight(t *testing.T) {
	s := newSite(t, siteOptions{})
	b := newBrowser(t)
	for _, lang := range []string{"en", "ko"} {
		tab := b.tab()
		do(t, tab, 10*time.Second, "first visit in "+lang,
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
					return err
				}
				if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
					return err
				}
				_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
					Headers: network.Headers{"Accept-Language": lang},
				})
				return err
			}),
			chromedp.Navigate(s.URL+"/"),
			chromedp.WaitVisible(sel("lobby")),
			chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => new Promise(r => setTimeout(r, 300)))`, chromedp.EvalAwaitPromise),
		)
		out := run(t, tab, 5*time.Second, "weight", chromedp.Evaluate[string](`JSON.stringify([
			...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')
		].map(e => ({name: e.name, type: e.initiatorType, size: e.transferSize})))`))
		var entries []struct {
			Name, Type string
			Size       int
		}
		if err := json.Unmarshal([]byte(out), &entries); err != nil {
			t.Fatal(err)
		}
		var w pageWeight
		for _, e := range entries {
			switch path := strings.SplitN(e.Name, "?", 2)[0]; {
			case strings.HasSuffix(path, "/events"):
				continue // the live stream never ends; it is not page weight
			case e.Type == "navigation":
				w.HTML += e.Size
			case strings.HasSuffix(path, ".css"):
				w.CSS += e.Size
			case strings.HasSuffix(path, ".js"):
				w.JS += e.Size
			case strings.HasSuffix(path, ".woff2"):
				w.Font += e.Size
				w.Fonts++
			case strings.HasSuffix(path, ".svg"):
				w.Image += e.Size
			default:
				w.Other += e.Size
			}
			w.Total += e.Size
		}
		t.Logf("first lobby in %s: %d B total = HTML %d + CSS %d + JS %d + images %d + fonts %d (%d files) + other %d",
			lang, w.Total, w.HTML, w.CSS, w.JS, w.Image, w.Font, w.Fonts, w.Other)
		if w.HTML == 0 || w.CSS == 0 || w.JS == 0 {
			t.Fatalf("%s: the timing entries miss the page's own files: %+v", lang, entries)
		}
		if lang == "ko" && w.Fonts == 0 {
			t.Errorf("the Korean lobby loaded no Hangul font: it would show boxes where no CJK font is installed")
		}
		if w.Total > firstPageBudget[lang] {
			t.Errorf("the first lobby in %s transfers %d B, over its budget of %d B", lang, w.Total, firstPageBudget[lang])
		}
	}
	b.checkConsole()
}
