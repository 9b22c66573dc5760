package admin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
	views "github.com/bossraid/bossraid/views/admin"
)

func TestTheQueueIsOnTheOverviewAndTheRaidPage(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	boss := s.signUp("boss")
	s.setRole(boss, users.RoleAdmin)
	admin := s.signedIn(boss)
	inside, first, second := s.signUp("inside"), s.signUp("first"), s.signUp("second")
	player := func(a account) app.Player { return app.Player{ID: a.ID, Nickname: a.Nickname} }

	if got := admin.ok(views.PathDashboard).text(testid("admin-queue-summary")); !strings.Contains(got, "0 players waiting") {
		t.Errorf("empty queue: %q", got)
	}
	r, err := s.App.Raids.EnterRaid(ctx, player(inside), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []account{first, second} {
		if _, err := s.Queue.Join(ctx, player(a)); err != nil {
			t.Fatal(err)
		}
	}
	dash := admin.ok(views.PathDashboard)
	if got := dash.text(testid("admin-queue-summary")); !strings.Contains(got, "2 players waiting") || !strings.Contains(got, "taken: 0, lapsed: 0") {
		t.Errorf("overview: %q", got)
	}
	var line []string
	dash.doc.Find(testid("admin-queue-row")).Each(func(_ int, row *goquery.Selection) {
		line = append(line, strings.Join(strings.Fields(row.Text()), " "))
	})
	if len(line) != 2 || !strings.Contains(line[0], "first") || !strings.Contains(line[1], "second") {
		t.Errorf("the line on the overview: %q", line)
	}
	if _, err := s.App.Raids.EndRaid(ctx, player(inside), r.ID, nil); err != nil {
		t.Fatal(err)
	}
	detail := admin.ok(views.RaidPath(r.ID))
	if got := detail.text(testid("admin-queue-holder")); !strings.Contains(got, "first") {
		t.Errorf("the raid page does not show whose turn it is: %q", got)
	}
}
