package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/internal/testenv"
	views "github.com/bossraid/bossraid/views/admin"
)

// bossSource is boss data the test changes; err makes the next load fail.
type bossSource struct {
	data raids.BossData
	err  error
}

func (b *bossSource) LoadBossData(context.Context) (raids.BossData, error) { return b.data, b.err }

func TestReloadShowsWhyBadDataIsRefusedAndKeepsTheOld(t *testing.T) {
	src := &bossSource{err: fmt.Errorf("boss data from /etc/bossraid.json: %w: levels is empty", raids.ErrInvalidBossData)}
	s := newSiteWith(t, testenv.StackOptions{BossSource: src})
	boss := s.signUp("boss")
	s.setRole(boss, users.RoleAdmin)
	c := s.signedIn(boss)

	p := c.follow(c.post(views.PathBossDataReload, url.Values{}))
	if flash := p.text(testid("flash")); !strings.Contains(flash, "not reloaded") || !strings.Contains(flash, "levels is empty") {
		t.Fatalf("flash after a bad reload: %q", flash)
	}
	if got := p.text(testid("time-limit")); got != "180 s" || p.doc.Find(testid("level-row")).Length() != 3 {
		t.Fatalf("after a bad reload the page shows %q and %d levels, want the built-in data", got, p.doc.Find(testid("level-row")).Length())
	}

	src.err = nil
	src.data = raids.BossData{TimeLimit: 90 * time.Second, Levels: []raids.Level{{Level: 0, Score: 10}, {Level: 5, Score: 500}}}
	p = c.follow(c.post(views.PathBossDataReload, url.Values{}))
	if flash := p.text(testid("flash")); !strings.Contains(flash, "reloaded: 2 levels") {
		t.Fatalf("flash after a good reload: %q", flash)
	}
	if got := p.text(testid("time-limit")); got != "90 s" || p.doc.Find(testid("level-row")).Length() != 2 {
		t.Fatalf("after a good reload the page shows %q", got)
	}
	if !strings.Contains(p.text(testid("boss-json")), `"bossRaidLimitSeconds": 90`) {
		t.Fatalf("JSON: %s", p.text(testid("boss-json")))
	}
}

func TestRebuildShowsItsResultAndTheRankingsAgree(t *testing.T) {
	s := newSite(t)
	boss := s.signUp("boss")
	s.setRole(boss, users.RoleAdmin)
	for i, total := range []int{85, 47, 47} {
		a := s.signUp(fmt.Sprintf("scorer%d", i))
		if _, err := s.DB.Exec(`UPDATE users SET total_score = $2 WHERE id = $1`, a.ID, total); err != nil {
			t.Fatal(err)
		}
	}
	c := s.signedIn(boss)
	// The totals were written behind the leaderboard's back, so it disagrees until rebuilt.
	before := c.ok(views.PathRanking)
	if got := before.text(testid("agreement")); strings.Contains(got, "agrees") {
		t.Fatalf("before the rebuild: %q", got)
	}
	p := c.follow(c.post(views.PathRankingRebuild, url.Values{}))
	if flash := p.text(testid("flash")); !strings.Contains(flash, "3 ranked players in") {
		t.Fatalf("flash after the rebuild: %q", flash)
	}
	if got := p.text(testid("agreement")); !strings.Contains(got, "agrees") {
		t.Fatalf("after the rebuild: %q", got)
	}
	for _, id := range []string{"db-ranking", "lb-ranking"} {
		var cells []string
		p.doc.Find(testid(id) + " td").Each(func(_ int, s *goquery.Selection) { cells = append(cells, strings.TrimSpace(s.Text())) })
		if got := strings.Join(cells, " "); got != "#1 scorer0 85 #2 scorer1 47 #2 scorer2 47" {
			t.Fatalf("%s: %q", id, got)
		}
	}
}
