// The moderator view drawn from the sample room into the page's own moderate section (parsed
// from static/index.html into fakedom.mjs), and its controls clicked, with fetch answering as
// confd would. Chromium runs the real page in e2e/moderator_test.go.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Event, install } from "./fakedom.mjs";
import { sampleRoom } from "./fixtures.mjs";

const page = readFileSync(new URL("../static/index.html", import.meta.url), "utf8");
const section = /<section id="moderate-section"[\s\S]*?<\/section>/.exec(page)[0];
const doc = install(section);
const { ModeratorView } = await import("../static/moderate.js");

const $ = (id) => doc.getElementById(id);
const el = {
  form: $("mod-form"), room: $("mod-room"), token: $("mod-token"), panel: $("mod-panel"),
  stop: $("mod-stop"), status: $("mod-status"), alert: $("mod-alert"), note: $("mod-note"),
  muteAll: $("mod-mute-all"), record: $("mod-record"), recordState: $("mod-record-state"),
  list: $("mod-people"), count: $("mod-count"), listHeading: $("mod-people-heading"),
  roomName: $("mod-room-name"), announce: $("mod-announce"),
};

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

// bridge answers the view's requests as confd would for the sample room; answers[KEY] (KEY is
// "METHOD PATH") overrides one route. Every request is kept in calls.
function bridge(answers = {}) {
  const calls = [];
  globalThis.fetch = async (url, init) => {
    const key = `${init.method || "GET"} ${url}`;
    calls.push({ key, auth: init.headers.Authorization, body: init.body && JSON.parse(init.body) });
    if (answers[key]) return answers[key]();
    if (key.endsWith("/events")) return new Response(new ReadableStream({ start() {} }), { status: 200 }); // stays open
    if (key === "GET /api/rooms/standup") return json(200, sampleRoom);
    if (key === "GET /api/rooms/standup/recording") return json(200, { room: "standup", recording: false });
    return json(404, { error: `no route ${key}` });
  };
  return calls;
}

// until waits for cond, a few event-loop turns at a time.
async function until(cond, what) {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.fail(`not seen: ${what}`);
}

const rowOf = (id) => el.list.querySelector(`li[data-id=${id}]`);
const control = (id, c) => rowOf(id).querySelector(`[data-control=${c}]`);

test("the sample room drawn: names, states, roles, a coach's target; controls send their PATCH", async () => {
  const calls = bridge({
    "PATCH /api/rooms/standup/participants/1": () => json(200, { ...sampleRoom.participants[0], muted: true }),
    "PATCH /api/rooms/standup/participants/3": () => json(404, { error: "bridge: no such participant" }),
    "POST /api/rooms/standup/recording": () => json(201, { room: "standup", recording: true, file: "recordings/standup-1.opus" }),
    "POST /api/rooms/standup/mute-all": () => json(200, { muted: 2 }),
  });
  const view = new ModeratorView(el);
  el.room.value = "standup";
  el.token.value = "s3cret";
  el.form.dispatchEvent(new Event("submit"));
  await until(() => el.status.dataset.state === "watching", "watching");
  assert.equal(el.status.textContent, "Watching room standup.");
  assert.equal(el.panel.hidden, false);
  assert.equal(el.count.textContent, "(4)");
  assert.deepEqual(el.list.querySelectorAll(".who").map((w) => w.textContent),
    ["Ada, talking", "+4930123@example.org", "Guest #3", "Guest #4"]);
  assert.equal(control("1", "mute").getAttribute("aria-pressed"), "false");
  assert.equal(control("1", "mute").getAttribute("aria-label"), "Mute Ada");
  assert.equal(control("2", "mute").getAttribute("aria-pressed"), "true", "the phone is muted");
  assert.equal(control("3", "deaf").getAttribute("aria-pressed"), "true");
  assert.equal(control("3", "deaf").getAttribute("aria-label"), "Deafen Guest #3", "two guests told apart");
  assert.deepEqual(["1", "2", "3", "4"].map((id) => control(id, "role").value), ["normal", "coach", "monitor", "normal"]);
  assert.equal(rowOf("2").querySelector("label.target").hidden, false, "a coach shows whom it coaches");
  assert.equal(control("2", "target").value, "1");
  assert.equal(rowOf("1").querySelector("label.target").hidden, true);
  assert.equal(rowOf("1").querySelector(".mod").getAttribute("aria-label"), "Controls for Ada");
  assert.ok(calls.every((c) => c.auth === "Bearer s3cret"), "every request carries the token");

  // Mute Ada: the PATCH, then the row and the note show the bridge's answer.
  control("1", "mute").click();
  await until(() => control("1", "mute").getAttribute("aria-pressed") === "true", "Ada's Mute pressed");
  assert.deepEqual(calls.find((c) => c.key === "PATCH /api/rooms/standup/participants/1").body, { muted: true });
  assert.equal(el.note.textContent, "Ada is muted: no one hears them.");

  // Guest #3 has left: the 404 is explained and the row still shows the bridge's last state.
  control("3", "deaf").click();
  await until(() => !el.alert.hidden, "an alert");
  assert.equal(el.alert.textContent, "Could not undeafen Guest #3: Guest #3 is no longer in the room.");
  assert.equal(control("3", "deaf").getAttribute("aria-pressed"), "true");

  // Remove asks first, with the focus on Cancel; Escape closes it and gives Remove the focus.
  control("4", "kick").click();
  assert.equal(rowOf("4").querySelector(".confirm").hidden, false);
  assert.equal(rowOf("4").querySelector(".question").textContent, "Remove Guest #4 from the room?");
  assert.equal(control("4", "kick").getAttribute("aria-expanded"), "true");
  assert.equal(doc.activeElement, control("4", "kick-no"));
  el.list.dispatchEvent(new Event("keydown", { key: "Escape" }));
  assert.equal(rowOf("4").querySelector(".confirm").hidden, true);
  assert.equal(doc.activeElement, control("4", "kick"));
  assert.ok(!calls.some((c) => c.key.startsWith("DELETE")), "nothing removed without a yes");

  // Record: the toggle is pressed and names the file.
  el.record.click();
  await until(() => el.record.getAttribute("aria-pressed") === "true", "Record pressed");
  assert.equal(el.recordState.textContent, "Recording to standup-1.opus");

  // Mute everyone: the POST, and how many it muted.
  el.muteAll.click();
  await until(() => el.note.textContent.startsWith("Muted"), "the mute-all note");
  assert.equal(el.note.textContent, "Muted 2 participants; coaches and monitors are left as they were.");
  assert.deepEqual(calls.find((c) => c.key === "POST /api/rooms/standup/mute-all").body, {});

  // A refresh keeps the rows (and so the focus in them) in place.
  const before = el.list.children;
  control("2", "mute").focus();
  await view.refresh(view.api, false);
  assert.deepEqual(el.list.children, before);
  assert.equal(doc.activeElement, control("2", "mute"));

  view.stop();
  assert.equal(el.panel.hidden, true);
  assert.equal(el.status.textContent, "Not watching a room.");
  assert.equal(el.list.children.length, 0);
});

test("a wrong token stops watching with a sentence, and focuses the token field", async () => {
  bridge({
    "GET /api/rooms/standup": () => json(401, { error: "missing or wrong bearer token" }),
    "GET /api/rooms/standup/events": () => json(401, { error: "missing or wrong bearer token" }),
  });
  const view = new ModeratorView(el);
  el.room.value = "standup";
  el.token.value = "wrong";
  el.form.dispatchEvent(new Event("submit"));
  await until(() => !el.alert.hidden, "an alert");
  assert.match(el.alert.textContent, /^Could not watch room standup: the bridge refused this API token/);
  assert.equal(el.status.dataset.state, "failed");
  assert.equal(el.panel.hidden, true);
  assert.equal(doc.activeElement, el.token);
  assert.equal(view.watching, "");
});

test("a bad room name is refused before any request", async () => {
  const calls = bridge();
  const view = new ModeratorView(el);
  el.room.value = "no spaces";
  el.form.dispatchEvent(new Event("submit"));
  assert.equal(el.room.getAttribute("aria-invalid"), "true");
  assert.match(el.alert.textContent, /1 to 64 letters/);
  assert.equal(calls.length, 0);
  assert.equal(view.watching, "");
});
