#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test confd. Idempotent: it checks
# before it installs, so it costs a second when everything is there.
#
#   scripts/setup.sh          build and run needs (libopus for cgo)
#   scripts/setup.sh test     also the real peers the end-to-end tests drive
#   scripts/setup.sh prompts  also espeak-ng and sox, to regenerate prompts/*.wav (prompts/make.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

want=(libopus-dev libopusfile-dev pkg-config gcc)
case "${1:-}" in
test)
	# baresip-core carries every module internal/peer loads (aufile, aubridge, sndfile, menu,
	# ctrl_tcp, g711, g722, opus); --no-install-recommends keeps ALSA/GUI extras out.
	want+=(baresip-core)
	;;
prompts)
	want+=(espeak-ng sox)
	;;
esac

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
