#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test confd. Idempotent: it checks
# before it installs, so it costs a second when everything is there.
#
#   scripts/setup.sh          build and run needs (libopus for cgo)
#   scripts/setup.sh test     also the real peers the end-to-end tests drive
set -euo pipefail
cd "$(dirname "$0")/.."

want=(libopus-dev libopusfile-dev pkg-config gcc)
if [[ "${1:-}" == "test" ]]; then
	want+=()
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
	sudo=""
	if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
	echo "setup: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
	echo "setup: Go 1.26 or newer is required (https://go.dev/dl/); put it on PATH" >&2
	exit 1
fi
