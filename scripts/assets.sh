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
for w in "${font_weights[@]}"; do
	css="node_modules/$font_pkg/$w.css"
	if [ ! -f "$css" ]; then
		echo "assets: $css is missing (check the package's layout)" >&2
		exit 1
	fi
	# The numbered blocks ("noto-sans-kr-[12]-400-normal") are the Korean unicode-range subsets;
	# Latin text keeps the system font. Keep only the woff2 source: every browser we serve reads it.
	awk 'BEGIN { RS = ""; ORS = "\n\n" } /noto-sans-kr-\[[0-9]+\]/' "$css" |
		sed -E "s#, url\(\./files/[^)]+\.woff\) format\('woff'\)##" >>"$font_dest/noto-sans-kr.css"
done
grep -oE "files/[^)]+\.woff2" "$font_dest/noto-sans-kr.css" | while read -r f; do
	cp "node_modules/$font_pkg/$f" "$font_dest/$f"
done
cp "node_modules/$font_pkg/LICENSE" "$font_dest/LICENSE"
fonts=$(find "$font_dest/files" -name '*.woff2' | wc -l)
echo "assets: static/vendor/ has ${#vendor[@]} file(s) from npm and $fonts font subset(s) of $font_pkg" >&2
