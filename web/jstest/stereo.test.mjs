// The page's WHIP offer asks for stereo (stereoOffer): Chromium decodes stereo only by its own
// offer's stereo=1, and confd sends stereo only to listeners that said it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stereoOffer } from "../static/whip.js";

const chromiumOffer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9\r\na=rtpmap:111 opus/48000/2\r\n" +
  "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:9 G722/8000\r\n";

test("stereo=1 is added to the Opus fmtp only", () => {
  const out = stereoOffer({ type: "offer", sdp: chromiumOffer });
  assert.equal(out.type, "offer");
  assert.match(out.sdp, /\r\na=fmtp:111 minptime=10;useinbandfec=1;stereo=1\r\n/);
  assert.equal(out.sdp.replace(";stereo=1", ""), chromiumOffer);
});

test("an offer that already says stereo, or has no Opus, is left as it is", () => {
  const already = chromiumOffer.replace("useinbandfec=1", "stereo=0;useinbandfec=1");
  assert.equal(stereoOffer({ type: "offer", sdp: already }).sdp, already);
  assert.equal(stereoOffer({ type: "offer", sdp: "v=0\r\n" }).sdp, "v=0\r\n");
});
