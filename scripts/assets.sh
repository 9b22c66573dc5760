#!/usr/bin/env bash
# Installs the npm packages pinned in package-lock.json (only when node_modules/ is missing or
# older than the lock file) and copies the files the app serves into static/vendor/.
# To serve another file, add a line to `vendor` below (and the package with
# `npm install --save-exact NAME@VERSION`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# "path under node_modules/   name under static/vendor/" (a directory is copied whole)
vendor=(
	"htmx.org/dist/htmx.min.js     htmx.min.js"
	"htmx-ext-sse/dist/sse.min.js  sse.min.js"
	"swagger-ui-dist/swagger-ui-bundle.js  swagger-ui-bundle.js"
	"swagger-ui-dist/swagger-ui.css        swagger-ui.css"
)

# Noto Sans KR (@fontsource) for Hangul: only the Korean unicode-range subsets, only the weights
# the stylesheets use (400 and 700; 600 and 800 take the nearest), only woff2. The browser
# fetches just the subsets a page's text needs. The two stylesheets become one file, and only
# the files they name are copied.
font_pkg="@fontsource/noto-sans-kr"
font_weights=(400 700)
font_dest="static/vendor/noto-sans-kr"

if ! command -v npm >/dev/null; then
	echo "assets: npm not found; installing Debian's nodejs and npm" >&2
	if [ "$(id -u)" -ne 0 ]; then echo "assets: run as root or install npm yourself" >&2; exit 1; fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
fi

stamp=node_modules/.package-lock.json # npm writes it on every install
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
	echo "assets: npm ci" >&2
	npm ci --no-audit --no-fund --loglevel=error
	touch "$stamp"
fi

mkdir -p static/vendor
for line in "${vendor[@]}"; do
	read -r src dest <<<"$line"
	if [ ! -e "node_modules/$src" ]; then
		echo "assets: node_modules/$src is missing (check the package's layout)" >&2
		exit 1
	fi
	rm -rf "static/vendor/$dest"
	cp -R "node_modules/$src" "static/vendor/$dest"
done

rm -rf "$font_dest"
mkdir -p "$font_dest/files"
css_files=()
for w in "${font_weights[@]}"; do
	css_files+=("node_modules/$font_pkg/$w.css")
	if [ ! -f "${css_files[-1]}" ]; then
		echo "assets: ${css_files[-1]} is missing (check the package's layout)" >&2
		exit 1
	fi
done
# The numbered blocks ("noto-sans-kr-[12]-400-normal") are the Korean unicode-range subsets. Their
# ranges lose everything below U+1100 (Hangul Jamo): Latin letters, digits and punctuation keep
# the system font, so the stylesheets can name Noto Sans KR first — the browser then re-renders
# Hangul as soon as a subset arrives, which it does not reliably do for a fallback font. A block
# left with no range goes. Each subset's weights sit side by side so gzip finds the repeated
# ranges, and only the woff2 source stays: every browser we serve reads it.
awk 'BEGIN { RS = ""; ORS = "\n\n" }
	function hex(s,   i, n) { n = 0; s = tolower(s); for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return n }
	function keep(block,   lines, i, out, parts, j, r, ranges) {
		split(block, lines, "\n"); out = ""
		for (i = 1; i in lines; i++) {
			if (lines[i] ~ /^ *unicode-range:/) {
				r = lines[i]; sub(/^ *unicode-range: */, "", r); sub(/;$/, "", r)
				split(r, parts, ","); ranges = ""
				for (j = 1; j in parts; j++) {
					r = parts[j]; sub(/^U\+/, "", r); sub(/-.*/, "", r)
					if (hex(r) >= 4352) ranges = ranges (ranges == "" ? "" : ",") parts[j]
				}
				if (ranges == "") return ""
				lines[i] = "  unicode-range: " ranges ";"
			}
			out = out lines[i] "\n"
		}
		return out "\n"
	}
	match($0, /noto-sans-kr-\[[0-9]+\]/) { id = substr($0, RSTART + 14, RLENGTH - 15) + 0; blocks[id] = blocks[id] keep($0); if (id > last) last = id }
	END { for (i = 0; i <= last; i++) printf "%s", blocks[i] }' "${css_files[@]}" |
	sed -E "s#, url\(\./files/[^)]+\.woff\) format\('woff'\)##" >"$font_dest/noto-sans-kr.css"
grep -oE "files/[^)]+\.woff2" "$font_dest/noto-sans-kr.css" | while read -r f; do
	cp "node_modules/$font_pkg/$f" "$font_dest/$f"
done
cp "node_modules/$font_pkg/LICENSE" "$font_dest/LICENSE"
fonts=$(find "$font_dest/files" -name '*.woff2' | wc -l)
echo "assets: static/vendor/ has ${#vendor[@]} file(s) from npm and $fonts font subset(s) of $font_pkg" >&2
