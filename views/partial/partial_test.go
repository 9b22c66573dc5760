package partial_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/bossraid/bossraid/views/partial"
)

func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func testid(id string) string { return `[data-testid="` + id + `"]` }

func text(doc *goquery.Document, sel string) string {
	return strings.Join(strings.Fields(doc.Find(sel).Text()), " ")
}

var deadline = time.Date(2026, 11, 25, 12, 3, 0, 0, time.UTC)

func TestStatusPanel(t *testing.T) {
	busy := render(t, partial.StatusPanel(partial.Status{
		Busy: true, Nickname: "Borin", Level: 2, Deadline: deadline, Left: 95*time.Second + time.Millisecond,
	}))
	if got := text(busy, testid("status-nickname")); got != "Borin" {
		t.Errorf("who: %q", got)
	}
	cd := busy.Find(testid("status-time-left"))
	if got, _ := cd.Attr("data-deadline"); got != "2026-11-25T12:03:00.000Z" {
		t.Errorf("deadline attribute %q", got)
	}
	if got, _ := cd.Attr("datetime"); got != "2026-11-25T12:03:00.000Z" {
		t.Errorf("datetime %q", got)
	}
	if got := cd.Text(); got != "1:36" {
		t.Errorf("time left %q (a started second counts)", got)
	}
	if got := text(busy, ".status-meta"); !strings.Contains(got, "Ashen Wyrm (level 2) · 1:36 left") {
		t.Errorf("meta %q", got)
	}
	mine := render(t, partial.StatusPanel(partial.Status{Busy: true, Mine: true, RaidPath: "/raids/9", Deadline: deadline}))
	if href, _ := mine.Find(testid("status-raid-link")).Attr("href"); href != "/raids/9" {
		t.Errorf("link to my raid %q", href)
	}
	free := render(t, partial.StatusPanel(partial.Status{TimeLimit: 180 * time.Second}))
	if free.Find(testid("status-free")).Length() != 1 || !strings.Contains(text(free, ".status-meta"), "180 seconds") {
		t.Errorf("free status: %q", text(free, "*"))
	}
}

func TestEnterPanel(t *testing.T) {
	levels := []partial.Level{{0, 20}, {1, 47}, {2, 85}}
	open := render(t, partial.EnterPanel(partial.Enter{SignedIn: true, Levels: levels}))
	for _, l := range []string{"0", "1", "2"} {
		btn := open.Find(testid("enter-" + l))
		if _, disabled := btn.Attr("disabled"); disabled {
			t.Errorf("level %s disabled while open", l)
		}
		if got := strings.Join(strings.Fields(btn.Text()), " "); got != "Enter level "+l {
			t.Errorf("button label %q", got)
		}
		form := btn.Closest("form")
		if a, _ := form.Attr("action"); a != "/raids" {
			t.Errorf("form action %q", a)
		}
		if m, _ := form.Attr("method"); m != "post" {
			t.Errorf("form method %q", m)
		}
		if v, _ := form.Find(`input[name="level"]`).Attr("value"); v != l {
			t.Errorf("level field %q", v)
		}
	}
	busy := render(t, partial.EnterPanel(partial.Enter{SignedIn: true, Busy: true, Levels: levels, Error: "Borin is inside"}))
	if n := busy.Find(`button[disabled]`).Length(); n != 3 {
		t.Errorf("%d disabled buttons while busy, want 3", n)
	}
	if got := text(busy, testid("enter-error")); got != "Borin is inside" {
		t.Errorf("error %q", got)
	}
	visitor := render(t, partial.EnterPanel(partial.Enter{Levels: levels}))
	if visitor.Find("form").Length() != 0 || visitor.Find(`a[href="/signin"]`).Length() != 1 {
		t.Error("visitors should be asked to sign in, not shown forms")
	}
}

func TestRankingIsOneBased(t *testing.T) {
	doc := render(t, partial.RankingPanel(partial.Ranking{Linked: true, Rows: []partial.Standing{
		{Place: 1, Nickname: "Celes", Total: 217},
		{Place: 2, Nickname: "Aria", Total: 100, Me: true},
		{Place: 2, Nickname: "Gwyn", Total: 100},
		{Place: 4, Nickname: "한결", Total: 20},
	}}))
	rows := doc.Find(testid("ranking-row"))
	want := []string{"#1 Celes 217", "#2 Aria (you) 100", "#2 Gwyn 100", "#4 한결 20"}
	rows.Each(func(i int, row *goquery.Selection) {
		var cells []string
		row.Find("td").Each(func(_ int, td *goquery.Selection) {
			cells = append(cells, strings.Join(strings.Fields(td.Text()), " "))
		})
		if got := strings.Join(cells, " "); got != want[i] {
			t.Errorf("row %d: %q, want %q", i, got, want[i])
		}
	})
	if !rows.Eq(1).HasClass("me") {
		t.Error("my row is not marked")
	}
	if href, _ := rows.Eq(3).Find("a").Attr("href"); href != "/players/%ED%95%9C%EA%B2%B0" {
		t.Errorf("player link %q", href)
	}
	if !rows.Eq(0).Find(".place").HasClass("place-1") {
		t.Error("no podium colour for #1")
	}
	empty := render(t, partial.RankingPanel(partial.Ranking{}))
	if empty.Find(testid("ranking-empty")).Length() != 1 {
		t.Error("empty ranking has no message")
	}
}

func TestMinePanel(t *testing.T) {
	in := render(t, partial.MinePanel(partial.Mine{Total: 47, InRanking: true, Place: 1}))
	if got := text(in, testid("mine-rank")); got != "You are #1 in the ranking" {
		t.Errorf("in the ranking: %q", got)
	}
	out := render(t, partial.MinePanel(partial.Mine{Total: 5}))
	if got := text(out, testid("mine-rank")); !strings.Contains(got, "Outside the top 10") {
		t.Errorf("outside: %q", got)
	}
	if got := text(out, testid("mine-total")); got != "5" {
		t.Errorf("total %q", got)
	}
}

func TestRaidPanel(t *testing.T) {
	running := render(t, partial.RaidPanel(partial.Raid{
		ID: 7, Path: "/raids/7", Level: 1, LevelScore: 47, Status: partial.RaidInProgress,
		Deadline: deadline, Left: 150 * time.Second, TimeLimit: 180 * time.Second,
	}))
	if got := text(running, testid("countdown")); got != "2:30" {
		t.Errorf("countdown %q", got)
	}
	if got := text(running, testid("seconds-left")); !strings.HasPrefix(got, "150 seconds left") {
		t.Errorf("server-rendered seconds %q", got)
	}
	form := running.Find(testid("clear")).Closest("form")
	if a, _ := form.Attr("action"); a != "/raids/7/end" {
		t.Errorf("clear action %q", a)
	}
	bar := running.Find("progress")
	if v, _ := bar.Attr("value"); v != "150" {
		t.Errorf("progress value %q", v)
	}

	won := render(t, partial.RaidPanel(partial.Raid{ID: 7, Level: 1, Status: partial.RaidSuccess,
		ScoreGained: 47, Total: 94, InRanking: true, Place: 3}))
	for id, want := range map[string]string{"score-gained": "+47", "total": "94", "place": "#3"} {
		if got := text(won, testid(id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	if won.Find(testid("clear")).Length() != 0 {
		t.Error("a cleared raid still offers the clear button")
	}

	lost := render(t, partial.RaidPanel(partial.Raid{ID: 7, Level: 2, Status: partial.RaidFail,
		TimeLimit: 2 * time.Second, Notice: "Too late"}))
	if got := text(lost, testid("failed")); got != "The raid failed" {
		t.Errorf("failure title %q", got)
	}
	if !strings.Contains(text(lost, testid("result")), "after 2 seconds") || text(lost, testid("raid-notice")) != "Too late" {
		t.Errorf("failure text %q", text(lost, "*"))
	}
}

func TestSignUpFormKeepsValuesButNotThePassword(t *testing.T) {
	doc := render(t, partial.SignUpFormView(partial.SignUpForm{
		Email: "a@b.example", Nickname: "x", Phone: "12",
		Errors: map[string]string{"nickname": "too short", "password": "too weak"},
	}))
	for id, want := range map[string]string{"#f-email": "a@b.example", "#f-nickname": "x", "#f-phone": "12"} {
		if got, _ := doc.Find(id).Attr("value"); got != want {
			t.Errorf("%s value %q", id, got)
		}
	}
	if _, ok := doc.Find("#f-password").Attr("value"); ok {
		t.Error("password value rendered")
	}
	if _, ok := doc.Find("#f-nickname").Attr("autofocus"); !ok {
		t.Error("the first field at fault should take the focus")
	}
	for _, f := range []string{"email", "nickname", "password", "phone", "profile_image"} {
		if doc.Find(`label[for="f-`+f+`"]`).Length() != 1 {
			t.Errorf("%s has no label", f)
		}
	}
	if enc, _ := doc.Find("form").Attr("enctype"); enc != "multipart/form-data" {
		t.Errorf("enctype %q", enc)
	}
}
