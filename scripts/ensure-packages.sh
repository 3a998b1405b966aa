#!/usr/bin/env bash
# ensure-packages.sh PKG... — make sure Debian packages are installed.
# Installs the missing ones when running as root (or with passwordless sudo);
# otherwise prints the one command that would, and fails.
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
	echo "installing Debian packages: ${missing[*]}" >&2
	bash -c "$cmd" >&2
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	echo "installing Debian packages with sudo: ${missing[*]}" >&2
	sudo bash -c "$cmd" >&2
else
	echo "missing Debian packages: ${missing[*]}" >&2
	echo "run as root: $cmd" >&2
	exit 1
fi
