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
echo "assets: static/vendor/ has ${#vendor[@]} file(s) from npm" >&2
