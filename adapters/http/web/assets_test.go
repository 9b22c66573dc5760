package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/bossraid/bossraid/static"
)

func TestVendoredScriptsArePresent(t *testing.T) {
	if missing := static.VendorMissing(); len(missing) > 0 {
		t.Fatalf("static/vendor lacks %v: run `make assets` (npm ci and copy)", missing)
	}
}

func TestStaticFilesAreCachedAndCompressed(t *testing.T) {
	s := newSite(t, siteOptions{})
	type answer struct {
		StatusCode int
		Header     http.Header
	}
	get := func(path string, header ...string) answer {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		setHeaders(req, header)
		// A transport of our own: the default one would ask for gzip and hide that it did.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return answer{resp.StatusCode, resp.Header}
	}
	css := static.Path("css/app.css")
	res := get(css, "Accept-Encoding", "gzip")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("%s: %d %q", css, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Errorf("versioned file Cache-Control %q", got)
	}
	if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("not compressed: %q, Vary %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff on static files")
	}
	if plain := get(css); plain.Header.Get("Content-Encoding") != "" {
		t.Error("compressed for a client that did not ask")
	}
	if again := get(css, "If-None-Match", res.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d", again.StatusCode)
	}
	if unversioned := get("/static/css/app.css"); !strings.Contains(unversioned.Header.Get("Cache-Control"), "must-revalidate") {
		t.Errorf("unversioned Cache-Control %q", unversioned.Header.Get("Cache-Control"))
	}
	if missing := get("/static/css/nothing.css"); missing.StatusCode != http.StatusNotFound {
		t.Errorf("missing file: %d", missing.StatusCode)
	}
	if svg := get(static.Path("img/boss-ogre.svg")); svg.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("svg type %q", svg.Header.Get("Content-Type"))
	}
}

// TestPagesAreLight measures what a first visit to the lobby downloads (compressed, as a
// browser asks) and keeps it small.
func TestPagesAreLight(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	c.signUp(newPlayer())
	tr := &http.Transport{DisableCompression: true}
	fetch := func(path string) int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		for _, ck := range c.hc.Jar.Cookies(mustURL(s.URL)) {
			req.AddCookie(ck)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		return int(n)
	}
	for _, path := range []string{"/", "/ranking"} {
		html := fetch(path)
		doc := c.get(path).doc
		seen := map[string]bool{}
		total := html
		doc.Find("script[src], link[href], img[src]").Each(func(_ int, el *goquery.Selection) {
			src, ok := el.Attr("src")
			if !ok {
				src, _ = el.Attr("href")
			}
			if strings.HasPrefix(src, "/") && !seen[src] {
				seen[src] = true
				total += fetch(src)
			}
		})
		t.Logf("%s: HTML %.1f KiB, with its %d files %.1f KiB (gzip, cold cache)", path, float64(html)/1024, len(seen), float64(total)/1024)
		if total > 100<<10 {
			t.Errorf("%s weighs %.1f KiB, more than 100 KiB", path, float64(total)/1024)
		}
	}
}
