// The moderator's rooms (static/rooms.js): GET /api/rooms with the API token, drawn into
// the page's own moderate section (parsed from static/index.html into fakedom.mjs), busiest
// first with their counts; pressing one watches it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Event, install } from "./fakedom.mjs";

const page = readFileSync(new URL("../static/index.html", import.meta.url), "utf8");
const section = /<section id="moderate-section"[\s\S]*?<\/section>/.exec(page)[0];
const doc = install(section);
const { RoomPicker, roomChoices, roomsStatus } = await import("../static/rooms.js");
const $ = (id) => doc.getElementById(id);

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

test("roomChoices: busiest first, then by name; anything not a room name is dropped", () => {
  const got = roomChoices([
    { room: "b", participants: 2 }, { room: "a", participants: 2 }, { room: "big", participants: 7 },
    { room: "<img src=x>", participants: 9 }, { room: "neg", participants: -1 }, null,
  ]);
  assert.deepEqual(got.map((c) => c.label), ["big, 7 people", "a, 2 people", "b, 2 people"]);
  assert.deepEqual(roomChoices({ error: "x" }), []);
  assert.equal(roomsStatus([]), "No room now: a room exists while someone is in it (or once declared).");
  assert.equal(roomsStatus(roomChoices([{ room: "a", participants: 1 }])), "1 room, 1 with people in it.");
  assert.equal(roomsStatus(roomChoices([{ room: "a", participants: 0 }, { room: "b", participants: 3 }])), "2 rooms, 1 with people in it.");
  assert.equal(roomsStatus([], { status: 401 }, false), "Enter the API token to list the rooms.");
  assert.equal(roomsStatus([], { status: 401 }, true), "The bridge refused this API token: correct it to list the rooms.");
  assert.equal(roomsStatus([], { status: 429 }, true), "Too many requests: wait a moment, then refresh the rooms.");
});

test("the picker lists the live rooms with the token; a press watches the room; a refusal says why", async () => {
  const calls = [];
  let answer = () => json(200, [{ room: "standup", participants: 1 }, { room: "board", participants: 4 }]);
  globalThis.fetch = async (url, init) => {
    calls.push({ url, method: init.method, auth: init.headers.Authorization });
    return answer();
  };
  $("mod-token").value = "s3cret";
  const picked = [];
  const picker = new RoomPicker({ list: $("mod-rooms"), status: $("mod-rooms-status"), refresh: $("mod-rooms-refresh") }, {
    token: () => $("mod-token").value.trim(),
    pick: (room) => picked.push(room),
  });
  await picker.load();
  assert.deepEqual(calls, [{ url: "/api/rooms", method: "GET", auth: "Bearer s3cret" }]);
  const buttons = $("mod-rooms").querySelectorAll("button");
  assert.deepEqual(buttons.map((b) => b.textContent), ["board 4 people", "standup 1 person"]);
  assert.equal(buttons[0].getAttribute("aria-label"), "Moderate board, 4 people");
  assert.equal($("mod-rooms-status").textContent, "2 rooms, 2 with people in it.");

  buttons[1].querySelector(".count").dispatchEvent(new Event("click", { bubbles: true }));
  assert.deepEqual(picked, ["standup"], "a press anywhere on a room's button watches that room");

  answer = () => json(401, { error: "api: missing or wrong token" });
  $("mod-rooms-refresh").dispatchEvent(new Event("click", { bubbles: true }));
  for (let i = 0; i < 200 && $("mod-rooms-status").dataset.state !== "failed"; i++) await new Promise((r) => setTimeout(r, 1));
  assert.equal(calls.length, 2, "Refresh asks again");
  assert.equal($("mod-rooms").querySelectorAll("button").length, 0, "no stale rooms after a refusal");
  assert.equal($("mod-rooms-status").textContent, "The bridge refused this API token: correct it to list the rooms.");
  assert.equal($("mod-rooms-status").dataset.state, "failed");
});
