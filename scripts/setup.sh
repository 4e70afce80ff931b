#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test confd. Idempotent: it checks
# before it installs, so it costs a second when everything is there.
#
#   scripts/setup.sh          build and run needs (libopus and libspeexdsp for cgo)
#   scripts/setup.sh test     also the real peers the end-to-end tests drive (baresip, Chromium,
#                             and e2e/browser's node modules from its package-lock.json)
#   scripts/setup.sh prompts  also espeak-ng and sox, to regenerate prompts/*.wav (prompts/make.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

# libopus-dev for the cgo Opus binding (built with -tags nolibopusfile, so not libopusfile),
# libspeexdsp-dev for dsp's noise suppression (cgo); dpkg-deb, for `make deb`, is part of dpkg.
want=(libopus-dev libspeexdsp-dev pkg-config gcc git)
case "${1:-}" in
test)
	# baresip-core carries every module testkit/baresip loads (aufile, aubridge, sndfile, menu,
	# ctrl_tcp, g711, g722, opus); --no-install-recommends keeps ALSA/GUI extras out.
	want+=(baresip-core)
	# Debian's Chromium for the browser tests (e2e/); playwright-core drives it, and never
	# downloads a browser of its own. node and npm install the driver's modules below.
	want+=(chromium)
	command -v node >/dev/null || want+=(nodejs)
	command -v npm >/dev/null || want+=(npm)
	# The cluster tests (e2e/phones) put Kamailio and HAProxy in front of three confd nodes,
	# running deploy/kamailio and deploy/haproxy's configs; the Debian services stay disabled.
	want+=(kamailio haproxy)
	# packaging/'s test checks the unit with systemd-analyze and starts confd as its user.
	want+=(systemd adduser util-linux)
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
	# Debian starts the services it installs: the tests run Kamailio and HAProxy themselves,
	# and Kamailio's stock service would hold 5060, confd's SIP port.
	for svc in kamailio haproxy; do
		if [[ " ${missing[*]} " == *" $svc "* ]] && command -v systemctl >/dev/null; then
			$sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
		fi
	done
fi

if ! command -v go >/dev/null; then
	echo "setup: Go 1.26 or newer is required (https://go.dev/dl/); put it on PATH" >&2
	exit 1
fi

# The browser driver's node modules (playwright-core), exactly as locked; never a browser download.
if [[ "${1:-}" == test ]]; then
	lock=e2e/browser/package-lock.json
	stamp=e2e/browser/node_modules/.package-lock.json
	if [[ ! -f $stamp || $lock -nt $stamp ]]; then
		echo "setup: npm ci in e2e/browser" >&2
		(cd e2e/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
