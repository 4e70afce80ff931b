// Unit tests of the moderator view's decisions and of the API calls it makes (run by node
// --test from web_test.go): the requests each control sends, the sentences refusals become, and
// what a row and the recording line show for a sample room.
import { test } from "node:test";
import assert from "node:assert/strict";
import { API, APIError } from "../static/api.js";
import {
  changeFor, describeChange, displayNames, shortID, explainModeration, gainOf, gainText, matrixWith, mergeRecording,
  ModerationError, participantView, recordingFromEvent, recordingView,
} from "../static/moderate.js";
import { sampleRoom } from "./fixtures.mjs";

const people = sampleRoom.participants;
const byID = (id) => people.find((p) => p.id === id);

// recordFetch replaces fetch for one test: it records every request and answers with answer(n).
async function withFetch(answer, fn) {
  const calls = [];
  const real = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    return answer(calls.length);
  };
  try {
    await fn(calls);
  } finally {
    globalThis.fetch = real;
  }
}

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

test("requests: every moderator call's method, path, body and bearer token", async () => {
  await withFetch((n) => (n === 4 ? new Response(null, { status: 204 }) : json(200, { ok: n })), async (calls) => {
    const api = new API({ token: "s3cret" });
    await api.room("stand up");
    await api.patchParticipant("standup", "2", { role: "coach", target: "1" });
    await api.patchParticipant("standup", "4", { muted: true });
    assert.equal(await api.hangup("standup", "4"), null, "a 204 answers null");
    await api.muteAll("standup");
    await api.recording("standup");
    await api.startRecording("standup");
    await api.stopRecording("standup");
    await api.matrix("standup");
    await api.setMatrix("standup", [{ listener: "1", speaker: "2", gain: 0.5 }]);
    assert.deepEqual(calls.map((c) => `${c.method} ${c.url}`), [
      "GET /api/rooms/stand%20up",
      "PATCH /api/rooms/standup/participants/2",
      "PATCH /api/rooms/standup/participants/4",
      "DELETE /api/rooms/standup/participants/4",
      "POST /api/rooms/standup/mute-all",
      "GET /api/rooms/standup/recording",
      "POST /api/rooms/standup/recording",
      "DELETE /api/rooms/standup/recording",
      "GET /api/rooms/standup/matrix",
      "PUT /api/rooms/standup/matrix",
    ]);
    assert.deepEqual(calls[9].body, [{ listener: "1", speaker: "2", gain: 0.5 }]);
    assert.deepEqual(calls[1].body, { role: "coach", target: "1" });
    assert.deepEqual(calls[2].body, { muted: true });
    assert.equal(calls[1].headers["Content-Type"], "application/json", "confd refuses a body of another type (415)");
    assert.deepEqual(calls[4].body, {});
    for (const c of calls) assert.equal(c.headers.Authorization, "Bearer s3cret", `${c.method} ${c.url}`);
    assert.deepEqual(calls[6].body, {}, "starting a recording sends an empty JSON object");
    for (const c of [calls[0], calls[3], calls[5], calls[7]]) assert.equal(c.body, undefined, `${c.method} ${c.url} has no body`);
    // confd refuses a state-changing request that is not JSON, an empty one included (415).
    for (const c of calls.filter((c) => c.method !== "GET")) assert.equal(c.headers["Content-Type"], "application/json", `${c.method} ${c.url}`);
    for (const c of calls.filter((c) => c.method === "GET")) assert.equal(c.headers["Content-Type"], undefined, `${c.method} ${c.url}`);
  });
  await withFetch(() => json(200, {}), async (calls) => {
    await new API().muteAll("r");
    assert.equal(calls[0].headers.Authorization, undefined, "no token, no header");
  });
});

test("requests: refusals become APIError with the server's {error} text", async () => {
  await withFetch(() => json(409, { error: "recording: room already recording" }), async () => {
    await assert.rejects(new API().startRecording("r"), (err) => err instanceof APIError && err.status === 409 && err.message === "recording: room already recording");
  });
  await withFetch(() => { throw new TypeError("Failed to fetch"); }, async () => {
    await assert.rejects(new API().muteAll("r"), (err) => err.status === 0 && /cannot reach/.test(err.message));
  });
});

test("controls: the PATCH each one sends", () => {
  assert.deepEqual(changeFor("mute", byID("1"), people), { muted: true });
  assert.deepEqual(changeFor("mute", byID("2"), people), { muted: false });
  assert.deepEqual(changeFor("deaf", byID("3"), people), { deaf: false });
  assert.deepEqual(changeFor("role", byID("1"), people, "monitor"), { role: "monitor" });
  assert.deepEqual(changeFor("role", byID("2"), people, "normal"), { role: "normal" });
  // A new coach coaches the first other participant; a coach keeps its target if still there.
  assert.deepEqual(changeFor("role", byID("4"), people, "coach"), { role: "coach", target: "1" });
  assert.deepEqual(changeFor("role", byID("1"), people, "coach"), { role: "coach", target: "2" });
  assert.deepEqual(changeFor("role", byID("2"), people, "coach"), { role: "coach", target: "1" });
  assert.deepEqual(changeFor("role", { ...byID("2"), target: "9" }, people, "coach"), { role: "coach", target: "1" });
  assert.deepEqual(changeFor("target", byID("2"), people, "4"), { role: "coach", target: "4" });
  assert.throws(() => changeFor("role", byID("1"), [byID("1")], "coach"), (err) => err instanceof ModerationError && /nobody else/.test(err.message));
  assert.throws(() => changeFor("role", byID("1"), people, "boss"), ModerationError);
  assert.throws(() => changeFor("volume", byID("1"), people), ModerationError);
});

test("rows: what a moderator sees of the sample room", () => {
  const names = displayNames(people);
  assert.deepEqual([...names.values()], ["Ada", "+4930123@example.org", "Guest #3", "Guest #4"], "a phone by its number; guests told apart by id");
  const ada = participantView(byID("1"), people, names);
  assert.deepEqual(ada, { id: "1", name: "Ada", muted: false, deaf: false, role: "normal", target: "", targetName: "", canCoach: true, targets: [] });
  const phone = participantView(byID("2"), people);
  assert.equal(phone.muted, true);
  assert.equal(phone.role, "coach");
  assert.equal(phone.targetName, "Ada");
  assert.deepEqual(phone.targets, [{ id: "1", text: "Ada" }, { id: "3", text: "Guest #3" }, { id: "4", text: "Guest #4" }]);
  const monitor = participantView(byID("3"), people);
  assert.equal(monitor.role, "monitor");
  assert.equal(monitor.deaf, true);
  assert.equal(monitor.target, "", "only a coach has a target");
  assert.equal(participantView({ ...byID("4"), role: "chief" }, people).role, "normal", "an unknown role reads as normal");
  assert.equal(participantView(byID("1"), [byID("1")]).canCoach, false, "alone, nobody to coach");
});

test("outcomes and actions read as sentences", () => {
  assert.deepEqual(describeChange({ muted: true }, "Ada"), { action: "mute Ada", done: "Ada is muted: no one hears them." });
  assert.equal(describeChange({ muted: false }, "Ada").action, "unmute Ada");
  assert.equal(describeChange({ deaf: true }, "Ada").action, "deafen Ada");
  assert.equal(describeChange({ deaf: false }, "Ada").done, "Ada hears the room again.");
  assert.equal(describeChange({ role: "coach", target: "1" }, "Bob", "Ada").done, "Bob coaches Ada: only Ada hears them.");
  assert.equal(describeChange({ role: "monitor" }, "Bob").action, "make Bob a monitor");
  assert.equal(describeChange({ role: "normal" }, "Bob").action, "make Bob a normal participant");
});

test("refusals: 401, 403, 404, 409 and the rest say what to do", () => {
  const e = (status, msg) => new APIError(status, msg);
  assert.match(explainModeration(e(401, "missing or wrong bearer token"), "mute Ada"), /^Could not mute Ada: the bridge needs its API token/);
  assert.match(explainModeration(e(401, "missing or wrong bearer token"), "mute Ada", { token: true }), /refused this API token/);
  assert.equal(explainModeration(e(403, "cross-site request refused: Origin https://x is not this server's and not allowed"), "mute Ada"),
    "Could not mute Ada: the bridge refused it: cross-site request refused: Origin https://x is not this server's and not allowed.");
  assert.equal(explainModeration(e(404, "bridge: no such participant"), "mute Ada", { gone: "Ada is no longer in the room" }),
    "Could not mute Ada: Ada is no longer in the room.");
  assert.equal(explainModeration(e(404, `no room "r" with participants`), "mute everyone"), `Could not mute everyone: no room "r" with participants.`);
  assert.equal(explainModeration(e(409, "recording: room is already being recorded"), "start recording"),
    "Could not start recording: room is already being recorded.", "the Go package's prefix is dropped");
  assert.equal(explainModeration(e(409, "recording: room has no participants"), "start recording"),
    "Could not start recording: room has no participants.");
  assert.equal(explainModeration(e(400, "bridge: bad setting: a coach needs a target."), "make Bob coach"),
    "The bridge refused to make Bob coach: bad setting: a coach needs a target.", "one full stop");
  assert.match(explainModeration(e(0, "cannot reach the bridge: x"), "mute Ada"), /cannot be reached/);
  assert.match(explainModeration(e(500, ""), "mute Ada"), /answered 500/);
  assert.match(explainModeration(new Error("boom"), "mute Ada"), /Could not mute Ada: boom\./);
});

test("recording line: idle, recording with its file, saved with its length, failed", () => {
  assert.deepEqual(recordingView({ room: "r", recording: false }), { pressed: false, file: "", text: "Not recording" });
  assert.deepEqual(recordingView({ room: "r", recording: true, file: "recordings/r-20260101-100000.opus" }),
    { pressed: true, file: "r-20260101-100000.opus", text: "Recording to r-20260101-100000.opus" });
  const started = recordingFromEvent({ type: "recording", room: "r", data: { state: "started", file: "/var/rec/r-1.opus" } });
  assert.deepEqual(started, { room: "r", recording: true, file: "/var/rec/r-1.opus" });
  const stopped = recordingFromEvent({ type: "recording", room: "r", data: { state: "stopped", file: "/var/rec/r-1.opus", duration_seconds: 75.4, duration_s: 75.4 } });
  assert.equal(recordingView(stopped).text, "Saved r-1.opus (1 min 15 s)");
  const older = recordingFromEvent({ type: "recording", room: "r", data: { state: "stopped", file: "/var/rec/r-1.opus", duration_s: 75.4 } });
  assert.equal(recordingView(older).text, "Saved r-1.opus (1 min 15 s)", "a confd that says duration_s only");
  // The DELETE's answer lacks the duration; arriving after the event it keeps it.
  const shown = mergeRecording(mergeRecording(started, stopped), { room: "r", recording: false, file: "/var/rec/r-1.opus" });
  assert.equal(recordingView(shown).text, "Saved r-1.opus (1 min 15 s)");
  assert.equal(recordingView(mergeRecording(shown, started)).pressed, true, "a new start wins");
  assert.match(recordingView({ recording: false, file: "r-2.opus", error: "disk full" }).text, /stopped with an error: disk full/);
});

test("volumes: one pair changed, a gain of 1 left out, pairs of people who left dropped", () => {
  const pairs = [{ listener: "1", speaker: "2", gain: 0.5 }, { listener: "2", speaker: "1", gain: 2 }, { listener: "1", speaker: "9", gain: 0 }];
  assert.equal(gainOf(pairs, "1", "2"), 0.5);
  assert.equal(gainOf(pairs, "1", "4"), 1, "an absent pair is heard at 1");
  const ids = new Set(["1", "2", "3", "4"]);
  assert.deepEqual(matrixWith(pairs, "1", "2", 1.5, ids),
    [{ listener: "2", speaker: "1", gain: 2 }, { listener: "1", speaker: "2", gain: 1.5 }]);
  assert.deepEqual(matrixWith(pairs, "1", "2", 1, ids), [{ listener: "2", speaker: "1", gain: 2 }]);
  assert.deepEqual(matrixWith(pairs, "3", "4", 0, ids).at(-1), { listener: "3", speaker: "4", gain: 0 });
  assert.equal(matrixWith(pairs, "3", "4", 0).length, 4, "without ids nothing is dropped");
  assert.deepEqual(pairs.length, 3, "the list given is not changed");
  assert.equal(gainText(0.5), "50 %");
  assert.equal(gainText(4), "400 %");
});

test("ULID participant ids are shown by their last four characters", () => {
  assert.equal(shortID("01JEX8Q5W7ZK3M9TQ4R2B6C8DA"), "C8DA");
  assert.equal(shortID("3"), "3");
  const names = displayNames([{ id: "01JEX8Q5W7ZK3M9TQ4R2B6C8DA", name: "Ada" }, { id: "01JEX8Q5W7ZK3M9TQ4R2B6C8DB", name: "Ada" }]);
  assert.deepEqual([...names.values()], ["Ada #C8DA", "Ada #C8DB"]);
});
