// Package chromium drives real Chromium browsers on confd's own web page, so that the page,
// its JavaScript and the browser's WebRTC stack are judged as a person uses them. Join starts
// e2e/browser/drive.mjs (playwright-core, in node), which opens one Chromium per Spec with a
// fake microphone playing the spec's tone, types the room and name, clicks Join, and answers
// the commands Browsers sends: Measure (what each page hears, recorded as WAV), Screenshot,
// Mute, moderate actions, Leave.
//
// Without Chromium, node or the driver's node modules the test is skipped, unless the
// environment variable CI is set, where a missing peer is a failure (Require).
package chromium
