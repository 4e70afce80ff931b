// Package web serves confd's browser client (docs/SPEC.md "Joining", web client): one static page that
// joins a room by WHIP (RFC 9725) or by SIP over WebSocket (RFC 7118, through a bundled sip.js),
// chooses the microphone, mutes and leaves, and lists the participants with their talking levels
// from the control API's event stream; and the moderator view, which drives the control API.
//
// The files under static/ are embedded in the binary, so confd serves its page with no other
// process and no network access. static/sipjs.js is a build artifact committed to the
// repository: `web/build.sh` regenerates it from npm (sip.js and esbuild); the Go build never
// needs node.
//
// The page's scripts are ES modules, one file per concept: api.js (control API client with a
// bearer token: the API token, or for a call's own room the read-only room token the bridge
// gave the call in X-Confd-Room-Token), events.js (the SSE stream read over fetch so that it can carry the
// token), whip.js and sipws.js (the two ways to join, behind one call interface), roster.js
// (the participant list), moderate.js (the moderator view at /#moderate: per participant Mute,
// Deafen, role, Remove and volumes, Mute everyone, recording; with or without a call) and app.js
// (the form, the call's life, which section shows). jstest/ holds their node tests.
package web
