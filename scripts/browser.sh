#!/usr/bin/env bash
# What the browser tests (and `make screenshots`) need: Debian's Chromium and one base font.
#
#   scripts/browser.sh up      install what is missing (idempotent) and say what was installed
#   scripts/browser.sh status  say what is there
#
# No CJK system font on purpose: the pages bring their own Hangul font, and the screenshots must
# prove it on a machine without one. Without root (and without password-less sudo) `up` stops and
# prints the exact command to run.
#
# Tests of this script override: CHROMIUM (the browser's path), BROWSER_FONT (a file the font
# package installs), APT_GET and SUDO (the commands run), BOSSRAID_SETUP_UID (our user id).
set -euo pipefail

chromium=${CHROMIUM:-/usr/bin/chromium}
font=${BROWSER_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
apt_get=${APT_GET:-apt-get}
sudo=${SUDO:-sudo}
uid=${BOSSRAID_SETUP_UID:-$(id -u)}

log() { printf 'browser: %s\n' "$*" >&2; }

# missing_packages prints the Debian packages whose files are not there.
missing_packages() {
	local want=()
	[ -x "$chromium" ] || want+=(chromium)
	[ -f "$font" ] || want+=(fonts-dejavu-core)
	printf '%s\n' "${want[@]}"
}

can_sudo() { command -v "$sudo" >/dev/null && "$sudo" -n true 2>/dev/null; }
as_root() { if [ "$uid" -eq 0 ]; then "$@"; else "$sudo" -n "$@"; fi; }

cmd_up() {
	local pkgs
	mapfile -t pkgs < <(missing_packages | grep .)
	if [ "${#pkgs[@]}" -eq 0 ]; then
		log "chromium ($chromium) and fonts already installed; nothing to do"
		return 0
	fi
	local install="apt-get update && apt-get install -y --no-install-recommends ${pkgs[*]}"
	if [ "$uid" -ne 0 ] && ! can_sudo; then
		log "error: the browser tests need ${pkgs[*]}, and installing needs root. Run:"
		log "  sudo sh -c '$install'"
		exit 1
	fi
	log "installing ${pkgs[*]} (Debian packages; about a minute)"
	local t0=$SECONDS
	as_root "$apt_get" update -qq >&2
	as_root env DEBIAN_FRONTEND=noninteractive "$apt_get" install -y -qq --no-install-recommends "${pkgs[@]}" >&2
	mapfile -t pkgs < <(missing_packages | grep .)
	if [ "${#pkgs[@]}" -ne 0 ]; then
		log "error: still missing after apt-get install: ${pkgs[*]}"
		exit 1
	fi
	log "installed in $((SECONDS - t0)) s; chromium is $chromium"
}

cmd_status() {
	if [ -x "$chromium" ]; then echo "chromium: $chromium"; else echo "chromium: missing ($chromium)"; fi
	if [ -f "$font" ]; then echo "font: $font"; else echo "font: missing ($font)"; fi
}

case ${1:-} in
up) cmd_up ;;
status) cmd_status ;;
*)
	echo "usage: $0 up|status" >&2
	exit 2
	;;
esac
