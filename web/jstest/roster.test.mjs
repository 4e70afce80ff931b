// The participant list folded from the events confd really sends: a join says role and
// moderator (a moved monitor stays one), a cascade leg is listed as GET lists it and never
// announced, and only the kinds the room lists have names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { install } from "./fakedom.mjs";

const doc = install('<ul id="people"></ul><span id="count"></span>');
const { Roster, kinds } = await import("../static/roster.js");

test("roster: joins with their role, cascade legs listed but not announced", () => {
  const r = new Roster(doc.getElementById("people"), doc.getElementById("count"));
  assert.equal(r.apply({ type: "join", participant: "1", time: "t1",
    data: { name: "Ada", kind: "sip", codec: "PCMU", role: "monitor", moderator: true, reason: "moved" } }), "Ada joined.");
  assert.equal(r.people.get("1").role, "monitor");
  assert.equal(r.people.get("1").moderator, true);
  r.apply({ type: "role", participant: "1", data: { role: "normal", moderator: false } });
  assert.equal(r.people.get("1").moderator, false);
  assert.equal(r.apply({ type: "cascade", participant: "2", time: "t2",
    data: { node: "b", state: "joined", name: "cascade b", kind: "cascade", codec: "opus" } }), "");
  assert.equal(r.people.get("2").name, "cascade b");
  assert.match(r.rows.get("2").querySelector(".tags").textContent, new RegExp(kinds.cascade));
  assert.equal(r.count.textContent, "(2)");
  assert.equal(r.apply({ type: "cascade", participant: "2", data: { node: "b", state: "left", reason: "bye" } }), "");
  assert.equal(r.people.has("2"), false);
  assert.deepEqual(Object.keys(kinds).sort(), ["cascade", "sip", "webrtc"]);
});
