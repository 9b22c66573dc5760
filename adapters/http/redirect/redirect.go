// Package redirect decides where the site may send a browser after an action: only to a path on
// this site. Every `next` and every other redirect target taken from a request goes through Local.
package redirect

import (
	"fmt"
	"net/url"
	"strings"
)

// Lobby is where a target that would leave the site goes instead.
const Lobby = "/"

// maxTarget bounds a target's length: longer ones are not a page of ours.
const maxTarget = 2048

// Local returns target as a path (with its query) on this site, or Lobby when a browser could
// take it anywhere else. host is the request's Host: an absolute http(s) URL naming it is
// reduced to its path. Target is judged after the normalisation a browser applies to a URL:
// leading and trailing spaces and control characters dropped, tabs and newlines removed
// anywhere, backslashes read as slashes; and it must still stay here after its
// percent-encoding is undone, so that no later decoding can turn it into `//elsewhere`.
func Local(target, host string) string {
	s := browserNormal(target)
	if s == "" || len(s) > maxTarget || strings.ContainsFunc(s, isControl) {
		return Lobby
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Opaque != "" {
		return Lobby
	}
	if u.Scheme != "" || u.Host != "" {
		// Absolute: only our own host, over http(s), is on this site.
		if (u.Scheme != "http" && u.Scheme != "https") || host == "" || !strings.EqualFold(u.Host, host) {
			return Lobby
		}
	} else if !staysHere(s) {
		return Lobby
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + escapeLoose(u.RawQuery)
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	if !staysHere(out) {
		return Lobby
	}
	// Undoing the percent-encoding, once or more, must not make it leave either.
	for decoded, i := out, 0; i < 3; i++ {
		next, err := url.PathUnescape(decoded)
		if err != nil {
			return Lobby
		}
		if next == decoded {
			break
		}
		decoded = browserNormal(next)
		if !staysHere(decoded) || strings.ContainsFunc(decoded, isControl) {
			return Lobby
		}
	}
	return out
}

// escapeLoose percent-encodes what a query may carry raw but a Location header should not:
// spaces, controls, backslashes, quotes and anything beyond ASCII.
func escapeLoose(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`\"<>^{|}`+"`", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// staysHere reports whether a relative reference is a path on the same host: one slash, then
// anything but another slash (`//host` and `///host` name another host to a browser).
func staysHere(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	return len(s) == 1 || (s[1] != '/' && s[1] != '\\')
}

// browserNormal applies what the WHATWG URL parser does before it reads a URL: leading and
// trailing C0 controls and spaces go, ASCII tabs and newlines go anywhere, and in the part
// before the query a backslash is a slash.
func browserNormal(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	end := strings.IndexAny(s, "?#")
	if end < 0 {
		end = len(s)
	}
	return strings.ReplaceAll(s[:end], `\`, "/") + s[end:]
}

// isControl is a C0 control, DEL, or a Unicode character no URL of ours needs and that some
// software treats as a separator or strips (format, line and paragraph separators).
func isControl(r rune) bool {
	return r < ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u2028' || r == '\u2029' ||
		r == '\u200b' || r == '\ufeff' || r == '\u00ad'
}
