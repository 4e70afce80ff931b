// Unit tests of the page's modules that need no DOM, run by `node --test` (web_test.go runs
// them as part of `go test ./web`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventStream } from "../static/events.js";
import { API, APIError, explainAPIError } from "../static/api.js";
import { refusal } from "../static/whip.js";

// streamOf returns a fetch Response body that delivers chunks one by one.
function streamOf(chunks) {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

test("SSE parser: events split across chunks, CRLF, comments, multi-line data, ids", async () => {
  const got = [];
  const es = new EventStream(new API(), "r1", { onEvent: (e) => got.push(e) });
  await es.read(streamOf([
    ": confd events\n\n",
    'id: 7\nevent: join\ndata: {"id":7,"type":"join","room":"r1",',
    '"participant":"p1","data":{"name":"Ada"}}\n\n',
    ": keep-alive\r\n\r\n",
    'id: 8\r\nevent: talking\r\ndata: {"id":8,"type":"talking",\r\ndata: "participant":"p1","data":{"talking":true}}\r\n\r\n',
    "data: not json\n\n",
    'data: {"id":9,"type":"leave","participant":"p1"}\n',
  ]));
  assert.deepEqual(got.map((e) => e.type), ["join", "talking"]);
  assert.equal(got[0].data.name, "Ada");
  assert.equal(got[1].data.talking, true);
  assert.equal(es.lastID, "8", "the last complete event's id is kept for Last-Event-ID");
});

test("SSE stream: bearer token and Last-Event-ID on reconnect; stops for good on 403", async () => {
  const calls = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    calls.push({ url, headers: init.headers });
    if (calls.length === 1) {
      return new Response(streamOf(['id: 3\ndata: {"type":"mute"}\n\n']), { status: 200 });
    }
    return new Response(JSON.stringify({ error: "cross-site request refused" }), { status: 403 });
  };
  try {
    const errors = [];
    let opened = 0;
    const es = new EventStream(new API({ token: "s3cret" }), "room-1", {
      onEvent: () => {},
      onOpen: () => { opened++; },
      onError: (err, final) => errors.push([err.status, final, err.message]),
    });
    // Shorten the retry pause: the test only checks what the second request carries.
    const realTimeout = globalThis.setTimeout;
    globalThis.setTimeout = (fn) => realTimeout(fn, 1);
    try {
      await es.loop();
    } finally {
      globalThis.setTimeout = realTimeout;
    }
    assert.equal(calls.length, 2);
    assert.equal(calls[0].url, "/api/rooms/room-1/events");
    assert.equal(calls[0].headers.Authorization, "Bearer s3cret");
    assert.equal(calls[1].headers["Last-Event-ID"], "3");
    assert.equal(opened, 1);
    assert.deepEqual(errors, [[403, true, "cross-site request refused"]]);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test("refusals read as sentences a person can act on", () => {
  assert.match(refusal(401, "this room needs its PIN"), /PIN is missing or wrong/);
  assert.match(refusal(403, "SIP 403 Forbidden (wrong PIN)"), /PIN is missing or wrong/);
  assert.match(refusal(403, "bridge: room is locked"), /locked/);
  assert.match(refusal(486, "SIP 486 Busy Here"), /full/);
  assert.match(refusal(409, "room is full"), /full/);
  assert.match(refusal(503, ""), /shutting down/);
  assert.match(refusal(429, "too many failed attempts"), /Too many tries/);
  assert.match(refusal(403, "SIP 403 Forbidden (too many PIN attempts)"), /Too many tries/);
  assert.match(refusal(418, "teapot"), /answered 418 \(teapot\)/);
  assert.match(explainAPIError(new APIError(403, "x")), /API token/);
  assert.match(explainAPIError(new APIError(401, "x")), /API token/);
});
