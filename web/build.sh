#!/usr/bin/env bash
# Regenerates static/sipjs.js, the sip.js bundle the page loads in its SIP-over-WebSocket mode,
# from the versions pinned in package-lock.json. The output is committed: the Go build embeds it
# and never needs node. Run it after changing sipjs-entry.js or the sip.js/esbuild versions.
set -euo pipefail
cd "$(dirname "$0")"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
