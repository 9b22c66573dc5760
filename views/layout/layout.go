// Package layout is the page frame every HTML page shares: head, header with navigation, flash
// message and footer. The admin pages use it too.
package layout

import "time"

// Viewer is the signed-in player as the header shows them.
type Viewer struct {
	Nickname  string
	AvatarURL string // "" when the player has no avatar
	IsAdmin   bool
}

// Flash is a one-time message shown at the top of the page.
type Flash struct {
	Kind    string // "success", "info" or "error"
	Message string
}

// Navigation sections, to mark the current one.
const (
	NavLobby   = "lobby"
	NavRanking = "ranking"
	NavMe      = "me"
	NavAdmin   = "admin"
	NavAccount = "account"
)

// Meta is what the frame needs besides the page's own content.
type Meta struct {
	Title  string  // page title, before " · Boss Raid"
	Viewer *Viewer // nil when signed out
	Flash  *Flash
	Nav    string // the current section
	// Stylesheets are extra stylesheets under static/ (e.g. "css/admin.css") for this page.
	Stylesheets []string
	// Now is the server's time when rendering; the countdown script corrects its clock by it.
	Now time.Time
	// RefreshWithoutScript, when set, reloads the page every so many seconds in a browser
	// without JavaScript (a player waiting in the raid queue).
	RefreshWithoutScript int
}

// LanguagePath is where the language switch posts its choice.
const LanguagePath = "/lang"

// FontStylesheet is the self-hosted font with Hangul (copied from npm by scripts/assets.sh).
const FontStylesheet = "vendor/noto-sans-kr/noto-sans-kr.css"

// FullTitle is the document title.
func (m Meta) FullTitle() string {
	if m.Title == "" {
		return "Boss Raid"
	}
	return m.Title + " · Boss Raid"
}
