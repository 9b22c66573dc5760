// Package component holds the small pieces the pages are built from: labelled fields, the
// countdown, avatars, boss pictures and ranking places.
package component

import (
	"fmt"
	"net/url"
	"strings"
	"time"

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
	Name  string
	Image string // URL of the picture
	Title string // what the picture shows, for alt text
}

var bosses = []Boss{
	{"Gloomslime", "img/boss-slime.svg", "A grinning green slime"},
	{"Ironhide Ogre", "img/boss-ogre.svg", "A tusked ogre in an iron helm"},
	{"Ashen Wyrm", "img/boss-dragon.svg", "A horned red dragon breathing embers"},
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

// HumanTime is t as players read it.
func HumanTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

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
