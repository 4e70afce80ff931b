// A room's server-sent event stream (HTML Living Standard "Server-sent events"), read with
// fetch rather than EventSource because EventSource cannot send the API token. It reconnects
// with Last-Event-ID after a drop, as EventSource would, and stops for good on 401/403/404.

import { APIError, errorText } from "./api.js";

const retryMin = 1000;
const retryMax = 10000;

export class EventStream {
  // api is an API; room the room's name, or "" for every room (GET /api/events).
  // onEvent(event) gets each parsed {id,type,time,room,participant,data}; onOpen() runs on every
  // (re)connection, so the caller can resynchronise; onError(err, final) reports a failure.
  constructor(api, room, { onEvent, onOpen = () => {}, onError = () => {} }) {
    this.api = api;
    this.path = room ? `/api/rooms/${encodeURIComponent(room)}/events` : "/api/events";
    this.onEvent = onEvent;
    this.onOpen = onOpen;
    this.onError = onError;
    this.lastID = "";
    this.abort = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.loop();
  }

  stop() {
    this.stopped = true;
    if (this.abort) this.abort.abort();
  }

  async loop() {
    let retry = retryMin;
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        const headers = this.api.headers({ Accept: "text/event-stream" });
        if (this.lastID) headers["Last-Event-ID"] = this.lastID;
        const resp = await fetch(this.api.url(this.path), { headers, signal: this.abort.signal, cache: "no-store" });
        if (!resp.ok) {
          const err = new APIError(resp.status, await errorText(resp));
          const final = [400, 401, 403, 404].includes(resp.status);
          this.onError(err, final);
          if (final) return;
        } else {
          retry = retryMin;
          this.onOpen();
          await this.read(resp.body);
        }
      } catch (err) {
        if (this.stopped) return;
        this.onError(new APIError(0, err.message), false);
      }
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, retry));
      retry = Math.min(retry * 2, retryMax);
    }
  }

  // read parses the stream until it ends: fields up to a blank line make one event.
  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let data = [];
    let id = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === "\r" && buf[nl + 1] === "\n" ? 2 : 1));
        if (line === "") {
          if (id) this.lastID = id;
          if (data.length) this.dispatch(data.join("\n"));
          data = [];
          id = "";
          continue;
        }
        if (line.startsWith(":")) continue; // comment or keep-alive
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "data") data.push(val);
        else if (field === "id") id = val;
      }
    }
  }

  dispatch(text) {
    let ev;
    try {
      ev = JSON.parse(text);
    } catch (_) {
      return; // not one of confd's events
    }
    this.onEvent(ev);
  }
}
