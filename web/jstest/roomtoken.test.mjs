// The participant list of a page participant without the API token (issue 8 item 6): the WHIP
// answer's X-Confd-Room-Token becomes the bearer token of GET /api/rooms/ROOM and its events.
import { test } from "node:test";
import assert from "node:assert/strict";
import { API } from "../static/api.js";
import { EventStream } from "../static/events.js";
import { WhipCall } from "../static/whip.js";

// FakePC is the part of RTCPeerConnection that WhipCall.start uses.
class FakePC {
  constructor() {
    this.iceGatheringState = "complete";
    this.connectionState = "new";
    this.localDescription = null;
    this.remote = null;
  }
  addTransceiver() {}
  async createOffer() { return { type: "offer", sdp: "v=0\r\n" }; }
  async setLocalDescription(d) { this.localDescription = d; }
  async setRemoteDescription(d) { this.remote = d; }
  addEventListener() {}
  removeEventListener() {}
  getSenders() { return []; }
  close() {}
}

test("WHIP: the answer's room token reads the room and its events, as a bearer token", async () => {
  const saved = { fetch: globalThis.fetch, pc: globalThis.RTCPeerConnection, location: globalThis.location };
  const calls = [];
  globalThis.RTCPeerConnection = FakePC;
  globalThis.location = { href: "http://confd.test/?room=standup" };
  globalThis.fetch = async (url, init = {}) => {
    calls.push({ url: String(url), method: init.method || "GET", headers: { ...(init.headers || {}) } });
    if (String(url).includes("/whip/")) {
      return new Response("v=0\r\n", { status: 201, headers: { Location: "/whip/standup/abc", "X-Confd-Room-Token": "rt1.room-token" } });
    }
    if (String(url).endsWith("/events")) return new Response(null, { status: 403 });
    return new Response(JSON.stringify({ room: "standup", participants: [] }), { status: 200, headers: { "Content-Type": "application/json" } });
  };
  try {
    const stream = { getAudioTracks: () => [{}] };
    const call = new WhipCall({ room: "standup", name: "Ada", pin: "", stream, audio: {}, onState: () => {} });
    await call.start();
    assert.equal(call.roomToken, "rt1.room-token");

    // What app.js does once the call is up and no API token was typed.
    const api = new API({ token: "" });
    if (!api.token) api.token = call.roomToken;
    await api.room("standup");
    const es = new EventStream(api, "standup", { onEvent: () => {} });
    await es.loop(); // the fake answers 403: final, so the loop ends
    const reads = calls.filter((c) => c.url.startsWith("/api/"));
    assert.deepEqual(reads.map((c) => c.url), ["/api/rooms/standup", "/api/rooms/standup/events"]);
    for (const c of reads) assert.equal(c.headers.Authorization, "Bearer rt1.room-token", c.url);
    const whip = calls.find((c) => c.url.includes("/whip/"));
    assert.equal(whip.headers.Authorization, undefined, "no PIN, no bearer on the WHIP POST");
  } finally {
    globalThis.fetch = saved.fetch;
    globalThis.RTCPeerConnection = saved.pc;
    globalThis.location = saved.location;
  }
});

test("WHIP: no header, no room token (an older bridge)", async () => {
  const saved = { fetch: globalThis.fetch, pc: globalThis.RTCPeerConnection, location: globalThis.location };
  globalThis.RTCPeerConnection = FakePC;
  globalThis.location = { href: "http://confd.test/" };
  globalThis.fetch = async () => new Response("v=0\r\n", { status: 201 });
  try {
    const call = new WhipCall({ room: "r", name: "", pin: "", stream: { getAudioTracks: () => [{}] }, audio: {}, onState: () => {} });
    await call.start();
    assert.equal(call.roomToken, "");
  } finally {
    globalThis.fetch = saved.fetch;
    globalThis.RTCPeerConnection = saved.pc;
    globalThis.location = saved.location;
  }
});
