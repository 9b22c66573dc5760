// Package component holds the small pieces the pages are built from: labelled fields, the
// countdown, avatars, boss pictures and ranking places.
package component

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/static"
)

// Field is one labelled form input. Its id is "f-" + Name.
type Field struct {
	Name         string // the form field name, also the JSON name
	Label        string
	Type         string // "text", "email", "password", "tel", "file"
	Value        string // kept after an error; never set for passwords
	Error        string // shown under the input; marks it invalid
	Hint         string
	Autocomplete string
	InputMode    string
	Accept       string // for file inputs
	Required     bool
	Optional     bool // says "(optional)" in the label
	Autofocus    bool
	MinLength    int
	MaxLength    int
}

// ID is the input's id.
func (f Field) ID() string { return "f-" + f.Name }

// DescribedBy lists the ids of the hint and the error, for aria-describedby.
func (f Field) DescribedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID()+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID()+"-error")
	}
	return strings.Join(ids, " ")
}

// Boss is the picture and name of the boss guarding a level.
type Boss struct {
	Key   string // its messages are "boss.<Key>.name" and "boss.<Key>.alt"
	Image string // URL of the picture
}

var bosses = []Boss{
	{"gloomslime", "img/boss-slime.svg"},
	{"ironhide_ogre", "img/boss-ogre.svg"},
	{"ashen_wyrm", "img/boss-dragon.svg"},
}

// BossFor returns the boss of a level; levels beyond the third meet the bosses again.
func BossFor(level int) Boss {
	if level < 0 {
		level = 0
	}
	b := bosses[level%len(bosses)]
	b.Image = static.Path(b.Image)
	return b
}

// BossName is the name of a level's boss in the request's language.
func BossName(ctx context.Context, level int) string {
	return i18n.T(ctx, "boss."+BossFor(level).Key+".name")
}

// BossAlt is what the picture of a level's boss shows, for alt text.
func BossAlt(ctx context.Context, level int) string {
	return i18n.T(ctx, "boss."+BossFor(level).Key+".alt")
}

// StatusLabel is how a raid status ("success", "fail", "in_progress") reads.
func StatusLabel(ctx context.Context, status string) string {
	switch status {
	case "success", "fail", "in_progress":
		return i18n.T(ctx, "status."+status)
	}
	return status
}

// Num is an integer with the language's digit grouping.
func Num[N int | int64](ctx context.Context, n N) string { return i18n.From(ctx).Num(n) }

// Itoa is a level or an id as digits, without grouping.
func Itoa[N int | int64](n N) string { return strconv.FormatInt(int64(n), 10) }

// Clock formats time left as m:ss, counting a started second as whole, never below 0:00.
func Clock(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	if d <= 0 {
		s = 0
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Seconds is time left in whole seconds, rounded up, never below 0.
func Seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

// Timestamp is the machine-readable form of t for datetime and data-deadline attributes.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// HumanTime is t as players read it, in the request's language.
func HumanTime(ctx context.Context, t time.Time) string { return i18n.From(ctx).DateTime(t) }

// Ago is how long ago t was, in words ("3 minutes ago", "3분 전").
func Ago(ctx context.Context, t, now time.Time) string { return i18n.From(ctx).Ago(t, now) }

// PlaceClass gives the podium places their colours.
func PlaceClass(place int64) string {
	if place >= 1 && place <= 3 {
		return fmt.Sprintf("place place-%d", place)
	}
	return "place"
}

// Initial is the first letter of a nickname, for avatar placeholders.
func Initial(nickname string) string {
	for _, r := range nickname {
		return string(r)
	}
	return "?"
}

// SignInPath is the sign-in page; it takes the way back in ?next=.
const SignInPath = "/signin"

// PlayerPath is the address of a player's page.
func PlayerPath(nickname string) string { return "/players/" + url.PathEscape(nickname) }

// ErrorBoss is the boss an error page shows: the slime is lost (404), the ogre guards (403),
// the dragon burned something down (5xx).
func ErrorBoss(status int) int {
	switch {
	case status == 404:
		return 0
	case status < 500:
		return 1
	}
	return 2
}

// Linked writes a translated sentence whose [bracketed] parts are links to hrefs, in order, so
// each language keeps its own word order around the links ("[Sign in] to see where you stand",
// "순위를 보려면 [로그인]하세요").
func Linked(text string, hrefs ...string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		for i := 0; ; i++ {
			open := strings.IndexByte(text, '[')
			end := strings.IndexByte(text, ']')
			if open < 0 || end < open || i >= len(hrefs) {
				b.WriteString(html.EscapeString(text))
				break
			}
			b.WriteString(html.EscapeString(text[:open]))
			b.WriteString(`<a href="` + html.EscapeString(string(templ.URL(hrefs[i]))) + `">`)
			b.WriteString(html.EscapeString(text[open+1 : end]))
			b.WriteString(`</a>`)
			text = text[end+1:]
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// Before is the part of a translated sentence before its {slot}, where a component goes (a
// countdown, a nickname); After is the part after it. Each language places the slot itself.
func Before(text, slot string) string {
	before, _, _ := strings.Cut(text, "{"+slot+"}")
	return before
}

// After is the part of a translated sentence after its {slot}; see Before.
func After(text, slot string) string {
	_, after, _ := strings.Cut(text, "{"+slot+"}")
	return after
}
