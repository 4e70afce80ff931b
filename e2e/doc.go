// Package e2e holds confd's end-to-end tests: they build cmd/confd once, start it on free
// loopback ports, and drive real peers against it (the test kit, confd/testkit).
// Browsers are Debian's Chromium run by playwright-core from node (e2e/browser/drive.mjs,
// driven by confd/testkit/chromium) on confd's own page, each with a fake microphone
// playing its own tone; phones are baresip (confd/testkit/baresip). What each one
// hears is judged with tone detectors (confd/testkit/audiotest): every participant
// must hear the others' tones and not its own, 20 dB apart.
//
// Without Chromium, node or e2e/browser/node_modules (scripts/setup.sh test installs them) the
// browser tests skip, unless the environment variable CI is set, where they fail. Set
// CONFD_E2E_ARTIFACTS to a folder to keep the screenshots and recordings, and
// CONFD_E2E_BINARY to test a confd already built.
package e2e
