// Joining by WHIP (RFC 9725): one POST of a complete SDP offer (ICE candidates gathered first,
// no trickle) to /whip/ROOM, the answer in the 201 body, DELETE on its Location to leave. The
// offer is sendrecv, which confd answers sendrecv: a full participant (docs/SPEC.md "Joining").
//
// WhipCall and SipCall (sipws.js) share one interface: start(), stop(), replaceTrack(track),
// id (the participant id when known), roomToken (the bridge's read-only token for this room's
// participant list, "" when it sent none), and the callbacks onState(state, detail).

import { errorText } from "./api.js";

// gatherTimeout bounds ICE gathering; on loopback or a LAN it completes in milliseconds.
const gatherTimeout = 3000;

// CallError is a failure to join, with a sentence for the page.
export class CallError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = "CallError";
    this.status = status;
  }
}

export class WhipCall {
  // opts: {room, name, pin, stream, audio (the <audio> element), onState(state, detail)}.
  constructor(opts) {
    this.opts = opts;
    this.pc = null;
    this.location = "";
    this.id = ""; // the bridge's participant id is not in the WHIP answer: see isSelf
    this.roomToken = ""; // read-only room token of the answer's X-Confd-Room-Token
    this.startedAt = 0;
    this.closed = false;
  }

  get mode() { return "whip"; }

  async start() {
    const { room, name, pin, stream, audio, onState } = this.opts;
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
    this.pc = pc;
    const track = stream.getAudioTracks()[0];
    pc.addTransceiver(track, { direction: "sendrecv", streams: [stream] });
    pc.ontrack = (e) => {
      audio.srcObject = e.streams[0] || new MediaStream([e.track]);
    };
    pc.onconnectionstatechange = () => {
      if (this.closed) return;
      switch (pc.connectionState) {
        case "connected": onState("connected"); break;
        case "disconnected": onState("reconnecting"); break;
        case "failed": onState("failed", "The audio connection failed (ICE or DTLS): a firewall may block the bridge's UDP media ports."); break;
      }
    };
    await pc.setLocalDescription(stereoOffer(await pc.createOffer()));
    await gathered(pc);

    this.startedAt = Date.now();
    const url = new URL(`/whip/${encodeURIComponent(room)}`, location.href);
    if (name) url.searchParams.set("name", name);
    const headers = { "Content-Type": "application/sdp" };
    if (pin) headers.Authorization = `Bearer ${pin}`;
    let resp;
    try {
      resp = await fetch(url, { method: "POST", headers, body: pc.localDescription.sdp });
    } catch (err) {
      throw new CallError(`Cannot reach the bridge at ${url.host}: ${err.message}.`);
    }
    if (resp.status !== 201 && resp.status !== 200) {
      throw new CallError(refusal(resp.status, await errorText(resp)), resp.status);
    }
    this.roomToken = resp.headers.get("X-Confd-Room-Token") || "";
    const loc = resp.headers.get("Location");
    if (loc) this.location = new URL(loc, url).href;
    const sdp = await resp.text();
    if (this.closed) return;
    await pc.setRemoteDescription({ type: "answer", sdp });
  }

  // isSelf finds our own row: a WHIP participant of our name that joined once we had asked.
  isSelf(p) {
    const joined = Date.parse(p.joined_at || "") || 0;
    return (p.kind === "whip" || p.kind === "webrtc") && (p.name || "") === (this.opts.name || "") &&
      joined >= this.startedAt - 2000;
  }

  async replaceTrack(track) {
    const sender = this.pc && this.pc.getSenders().find((s) => !s.track || s.track.kind === "audio");
    if (sender) await sender.replaceTrack(track);
  }

  // stop leaves the room: DELETE on the resource (keepalive, so it survives a closing page).
  async stop() {
    if (this.closed) return;
    this.closed = true;
    const loc = this.location;
    if (this.pc) this.pc.close();
    if (loc) {
      const headers = {};
      if (this.opts.pin) headers.Authorization = `Bearer ${this.opts.pin}`;
      await fetch(loc, { method: "DELETE", headers, keepalive: true }).catch(() => {});
    }
  }
}

// gathered resolves when ICE gathering is complete, or after gatherTimeout with what there is.
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, gatherTimeout);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === "complete") done();
    }
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// refusal explains a refusal to join: an HTTP status of the WHIP POST or a SIP final response
// to the INVITE, whose codes docs/SPEC.md "Errors" makes mean the same thing.
export function refusal(status, text) {
  const why = text ? ` (${text})` : "";
  if (status === 429 || /too many/i.test(text)) {
    return `Too many tries from this address: wait a little and try again${why}.`;
  }
  if ((status === 401 || status === 403) && /\bPIN\b/i.test(text)) {
    return `The room's PIN is missing or wrong: enter it under More options${why}.`;
  }
  switch (status) {
    case 400: return `The bridge refused the room name or the offer${why}.`;
    case 401: return `The room's PIN is missing or wrong: enter it under More options${why}.`;
    case 403: return `The room is locked: no one else may join now${why}.`;
    case 404: return `No such room or endpoint on this bridge${why}.`;
    case 409: case 486: return `The room is full${why}.`;
    case 415: case 488: return `The bridge could not use this browser's audio offer${why}.`;
    case 503: return `The bridge is shutting down or too busy and takes no new calls${why}.`;
    default: return `The bridge answered ${status}${why}.`;
  }
}

// stereoOffer adds stereo=1 to the offer's Opus fmtp (RFC 7587 section 6.1: the receiver prefers
// stereo). Chromium decodes stereo only when its own offer says so, and confd sends stereo only to
// such a listener and only while someone in the room is panned (README "Stereo placement"); a
// room without pans stays mono.
export function stereoOffer(desc) {
  const pt = (/a=rtpmap:(\d+) opus\/48000\/2/i.exec(desc.sdp || "") || [])[1];
  if (!pt) return desc;
  const fmtp = new RegExp(`^a=fmtp:${pt} .*$`, "m");
  const sdp = desc.sdp.replace(fmtp, (line) => (/(^|[; ])stereo=/.test(line.slice(line.indexOf(" "))) ? line : `${line};stereo=1`));
  return { type: desc.type, sdp };
}
