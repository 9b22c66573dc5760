package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/loadgen"
)

// A comparison asks every route for varied, never repeated URLs, counts answers that are not
// 2xx (and then fails), and its table replaces only its own section of the document.
func TestCompareVariesURLsAndCountsFailures(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.String()]++
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/api/users/search/seed3") {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer app.Close()
	hello := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }))
	defer hello.Close()
	appURL, _ := url.Parse(app.URL)
	helloURL, _ := url.Parse(hello.URL)
	rep, err := loadgen.Compare(context.Background(), loadgen.CompareOptions{
		App: appURL, Hello: helloURL, Routes: loadgen.CompareRoutes(5, "seed1", 100), Tokens: []string{"tok"},
		Rounds: 2, Connections: 4, Duration: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 6 {
		t.Fatalf("%d rows, want 6", len(rep.Rows))
	}
	for url, n := range seen {
		if n > 1 && url != "/healthz" { // the unmeasured requests that open each connection
			t.Fatalf("%s was asked %d times", url, n)
		}
	}
	err = rep.Err()
	if err == nil || !strings.Contains(err.Error(), "first page of random players") || strings.Contains(err.Error(), "offsets") {
		t.Fatalf("Err = %v, want the random players' route (seed3 fails) and only it", err)
	}
	for _, row := range rep.Rows {
		if m := row.Median(); m.Requests == 0 || len(row.Rounds) != 2 {
			t.Fatalf("%s: %+v over %d rounds", row.Route.Name, m, len(row.Rounds))
		}
	}

	doc := filepath.Join(t.TempDir(), "PERF.md")
	if err := os.WriteFile(doc, []byte("# Perf\n\nbefore\n<!-- begin bench-http -->\nold\n<!-- end bench-http -->\nafter\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := loadgen.WritePerformanceSection(doc, "bench-http", rep.Table()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	s := string(b)
	if strings.Contains(s, "old") || !strings.Contains(s, "| bare Go hello | ") || !strings.HasSuffix(s, "<!-- end bench-http -->\nafter\n") ||
		!strings.HasPrefix(s, "# Perf\n\nbefore\n<!-- begin bench-http -->\n| route |") {
		t.Fatalf("document after writing:\n%s", s)
	}
}
