// The join page's call-in box (static/callin.js): for the room typed, the SIP URI on the
// bridge's address from GET /api/info, the dial-in numbers with the meeting number to key
// (rooms whose name is digits), and a link that opens the page with the room filled in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Event, install } from "./fakedom.mjs";

const page = readFileSync(new URL("../static/index.html", import.meta.url), "utf8");
const section = /<section id="join-section"[\s\S]*?<\/section>/.exec(page)[0];
const doc = install(section);
const { CallInBox, callIn, fetchInfo } = await import("../static/callin.js");
const $ = (id) => doc.getElementById(id);

// info is GET /api/info as confd answers it.
const info = {
  sip: { host: "192.168.1.10", port: 5060, transports: ["udp", "tcp"], uri_template: "sip:{room}@192.168.1.10:5060" },
  dial_in: ["+15550100", "1000"], tls: false,
};
const origin = "https://192.168.1.10:8080";

test("callIn: the SIP URI, the numbers with the meeting number to key, the link", () => {
  assert.deepEqual(callIn(info, "4711", origin), {
    sip: "sip:4711@192.168.1.10:5060",
    dialIn: [{ number: "+15550100", keys: "4711#" }, { number: "1000", keys: "4711#" }],
    dialInNote: "", share: "https://192.168.1.10:8080/?room=4711",
  });
  const named = callIn(info, "standup", origin);
  assert.deepEqual(named.dialIn, [], "a room whose name is not digits has no meeting number to key");
  assert.equal(named.dialInNote, "The dial-in numbers reach only rooms whose name is digits (the meeting number).");
  assert.equal(callIn(info, "no spaces", origin), null);
  assert.equal(callIn(info, "", origin), null);
  const bare = callIn(null, "standup", origin);
  assert.deepEqual(bare, { sip: "", dialIn: [], dialInNote: "", share: "https://192.168.1.10:8080/?room=standup" },
    "without /api/info the link is still offered");
});

test("fetchInfo reads /api/info and gives null when the bridge does not answer it", async () => {
  globalThis.fetch = async (url) => {
    assert.equal(url, "/api/info");
    return new Response(JSON.stringify(info), { status: 200 });
  };
  assert.deepEqual(await fetchInfo(), info);
  globalThis.fetch = async () => new Response("no", { status: 404 });
  assert.equal(await fetchInfo(), null);
  globalThis.fetch = async () => { throw new TypeError("network"); };
  assert.equal(await fetchInfo(), null);
});

test("the box follows the room typed", () => {
  const room = $("room");
  const el = {
    box: $("callin"), room, roomName: $("callin-room"), sip: $("callin-sip"), sipRow: $("callin-sip-row"),
    dialIn: $("callin-dialin"), dialInNote: $("callin-dialin-note"), share: $("callin-share"),
  };
  new CallInBox(el, info, origin);
  assert.equal(el.box.hidden, true, "hidden until a room is typed");
  room.value = "4711";
  room.dispatchEvent(new Event("input"));
  assert.equal(el.box.hidden, false);
  assert.equal(el.roomName.textContent, "4711");
  assert.equal(el.sip.textContent, "sip:4711@192.168.1.10:5060");
  assert.deepEqual(el.dialIn.querySelectorAll("li").map((li) => li.textContent),
    ["Call +15550100, then key 4711#", "Call 1000, then key 4711#"]);
  assert.equal(el.dialInNote.hidden, true);
  assert.equal(el.share.getAttribute("href"), "https://192.168.1.10:8080/?room=4711");
  room.value = "standup";
  room.dispatchEvent(new Event("input"));
  assert.equal(el.dialIn.hidden, true);
  assert.equal(el.dialInNote.hidden, false);
  room.value = "bad room";
  room.dispatchEvent(new Event("input"));
  assert.equal(el.box.hidden, true);
});
