// The part of sip.js 0.21 that confd's page uses, bundled by `npm run build` (esbuild) into
// static/sipjs.js: sip.js ships ESM only and the page loads nothing from a CDN.
export { UserAgent, Inviter, SessionState, Web } from "sip.js";
