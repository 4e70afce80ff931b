// Client of confd's control API (docs/SPEC.md "Control API"). Every request carries a token as a
// bearer token (RFC 6750): the API token, or for a participant's own room the read-only room
// token the bridge handed over when it answered the call (X-Confd-Room-Token). The moderator
// view uses the same client for its PATCH/DELETE calls, which the bridge takes only as JSON.

// APIError is a refused or failed API request, with the HTTP status (0 when the server could
// not be reached) and the server's own {"error": "..."} text when it sent one.
export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "APIError";
    this.status = status;
  }
}

// errorText reads the JSON {"error": "..."} body confd answers refusals with, else the text.
export async function errorText(resp) {
  const body = await resp.text().catch(() => "");
  try {
    const j = JSON.parse(body);
    if (j && typeof j.error === "string") return j.error;
  } catch (_) { /* not JSON */ }
  return body.trim() || resp.statusText || `HTTP ${resp.status}`;
}

export class API {
  // base is the bridge's origin ("" for the page's own); token is the API token or a room token.
  constructor({ base = "", token = "" } = {}) {
    this.base = base;
    this.token = token;
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  url(path) {
    return this.base + path;
  }

  async request(method, path, body, signal) {
    const init = { method, headers: this.headers(), signal };
    // Every state-changing request is JSON, even without a body: the bridge refuses anything
    // else (415), so that no other site's form or simple fetch can act on it.
    if (method !== "GET" && method !== "HEAD") init.headers["Content-Type"] = "application/json";
    if (body !== undefined) init.body = JSON.stringify(body);
    let resp;
    try {
      resp = await fetch(this.url(path), init);
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new APIError(0, `cannot reach the bridge: ${err.message}`);
    }
    if (!resp.ok) throw new APIError(resp.status, await errorText(resp));
    if (resp.status === 204) return null;
    return resp.json();
  }

  // room returns {room, settings, participants:[…]} of GET /api/rooms/ROOM.
  room(room, signal) {
    return this.request("GET", `/api/rooms/${encodeURIComponent(room)}`, undefined, signal);
  }

  // patchParticipant changes any of {muted, deaf, role, target}.
  patchParticipant(room, id, change) {
    return this.request("PATCH", `/api/rooms/${encodeURIComponent(room)}/participants/${encodeURIComponent(id)}`, change);
  }

  // hangup removes a participant from the room.
  hangup(room, id) {
    return this.request("DELETE", `/api/rooms/${encodeURIComponent(room)}/participants/${encodeURIComponent(id)}`);
  }

  // muteAll mutes everyone but coaches and monitors and returns {muted: N}.
  muteAll(room) {
    return this.request("POST", `/api/rooms/${encodeURIComponent(room)}/mute-all`, {});
  }

  // matrix returns the room's explicit gain pairs: [{listener, speaker, gain}].
  matrix(room, signal) {
    return this.request("GET", `/api/rooms/${encodeURIComponent(room)}/matrix`, undefined, signal);
  }

  // setMatrix replaces the room's explicit gain pairs and returns them as the bridge keeps them.
  setMatrix(room, pairs) {
    return this.request("PUT", `/api/rooms/${encodeURIComponent(room)}/matrix`, pairs);
  }

  // recording returns {room, recording, file?} of GET /api/rooms/ROOM/recording.
  recording(room, signal) {
    return this.request("GET", `/api/rooms/${encodeURIComponent(room)}/recording`, undefined, signal);
  }

  // startRecording starts recording the room's mix: {room, recording: true, file} (409 when
  // it already records, 404 when nobody is in the room).
  startRecording(room) {
    return this.request("POST", `/api/rooms/${encodeURIComponent(room)}/recording`, {});
  }

  // stopRecording stops and finishes the file: {room, recording: false, file} (404 when the
  // room is not being recorded).
  stopRecording(room) {
    return this.request("DELETE", `/api/rooms/${encodeURIComponent(room)}/recording`);
  }
}

// explainAPIError turns a refused API call into a sentence for the page.
export function explainAPIError(err) {
  switch (err.status) {
    case 0: return "The participant list is unavailable: the bridge cannot be reached.";
    case 401: return "The participant list needs the bridge's API token (More options → API token), or a bridge that hands its participants a room token.";
    case 403: return "The bridge refused the participant list (More options → API token).";
    default: return `The participant list is unavailable: ${err.message}`;
  }
}
