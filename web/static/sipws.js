// Joining by SIP over WebSocket (RFC 7118): sip.js, bundled into sipjs.js at build time and
// loaded only when this mode is chosen, opens ws(s)://HOST/sip (subprotocol "sip") and sends
// INVITE sip:ROOM@HOST with a WebRTC offer (ICE, DTLS-SRTP, Opus). Same interface as WhipCall.

import { CallError, refusal, stereoOffer } from "./whip.js";

export class SipCall {
  // opts: {room, name, pin, stream, audio, onState(state, detail)}.
  constructor(opts) {
    this.opts = opts;
    this.ua = null;
    this.session = null;
    this.id = "";
    this.roomToken = ""; // read-only room token of the 200 OK's X-Confd-Room-Token
    this.established = false;
    this.closed = false;
    // A random user part: the display name carries the person's name, and the roster finds
    // our own row by this From user before it knows our id.
    this.user = "web-" + Math.random().toString(36).slice(2, 10);
  }

  get mode() { return "sip"; }

  async start() {
    const { room, name, pin, stream, audio, onState } = this.opts;
    let SIP;
    try {
      SIP = await import("./sipjs.js");
    } catch (err) {
      throw new CallError(`The SIP library could not be loaded: ${err.message}.`);
    }
    const host = location.hostname.includes(":") ? `[${location.hostname}]` : location.hostname;
    const server = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/sip`;
    const ua = new SIP.UserAgent({
      uri: SIP.UserAgent.makeURI(`sip:${this.user}@${host}`),
      displayName: name || undefined,
      transportOptions: { server, connectionTimeout: 5 },
      logLevel: "warn",
      sessionDescriptionHandlerFactory: SIP.Web.defaultSessionDescriptionHandlerFactory(async () => stream),
      sessionDescriptionHandlerFactoryOptions: {
        peerConnectionConfiguration: { bundlePolicy: "max-bundle" },
        iceGatheringTimeout: 3000,
      },
      delegate: {
        onDisconnect: (err) => {
          if (!this.closed && err) onState("failed", "The SIP WebSocket connection to the bridge was lost.");
        },
      },
    });
    this.ua = ua;
    try {
      await ua.start();
    } catch (err) {
      throw new CallError(`Cannot open the SIP WebSocket at ${server}: ${err.message || err}.`);
    }
    const target = SIP.UserAgent.makeURI(`sip:${room}@${host}`);
    if (!target) throw new CallError(`"${room}" does not make a SIP address.`);
    // A WebRTC call joins at once, with no DTMF prompt: confd takes a room PIN in this header.
    const session = new SIP.Inviter(ua, target, {
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
      // Our offer says stereo=1, as the WHIP offer does (stereoOffer); the answer is left alone.
      sessionDescriptionHandlerModifiers: [async (d) => (d.type === "offer" ? stereoOffer(d) : d)],
      extraHeaders: pin ? [`X-Confd-PIN: ${pin}`] : [],
    });
    this.session = session;

    let settle, accepted;
    const outcome = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    const acceptedSeen = new Promise((resolve) => { accepted = resolve; });
    session.stateChange.addListener((state) => {
      if (state === SIP.SessionState.Established) {
        const sdh = session.sessionDescriptionHandler;
        audio.srcObject = sdh.remoteMediaStream;
        this.established = true;
        onState("connected");
        settle.resolve();
      } else if (state === SIP.SessionState.Terminated) {
        // Before the answer, the refusal says why: sip.js calls onReject just after this, and
        // a settled promise ignores the later, vaguer reason.
        setTimeout(() => settle.reject(new CallError("The call ended before it was answered.")), 0);
        if (this.established && !this.closed) onState("ended", "The bridge ended the call.");
      }
    });
    await session.invite({
      requestDelegate: {
        onAccept: (resp) => {
          this.roomToken = resp.message.getHeader("X-Confd-Room-Token") || "";
          accepted();
        },
        onReject: (resp) => {
          const m = resp.message;
          settle.reject(new CallError(refusal(m.statusCode, `SIP ${m.statusCode} ${m.reasonPhrase}`), m.statusCode));
        },
      },
    });
    await outcome;
    // sip.js reports the 200 OK to the delegate just after the session is established.
    await Promise.race([acceptedSeen, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }

  async replaceTrack(track) {
    const pc = this.session && this.session.sessionDescriptionHandler && this.session.sessionDescriptionHandler.peerConnection;
    const sender = pc && pc.getSenders().find((s) => !s.track || s.track.kind === "audio");
    if (sender) await sender.replaceTrack(track);
  }

  // stop hangs up: BYE when answered, CANCEL while ringing, then closes the WebSocket.
  async stop() {
    if (this.closed) return;
    this.closed = true;
    const s = this.session;
    try {
      if (s && s.state === "Established") await s.bye();
      else if (s && s.state === "Establishing") await s.cancel();
    } catch (_) { /* the bridge may already be gone */ }
    if (this.ua) await this.ua.stop().catch(() => {});
  }

  // isSelf finds our own row by the From user until the bridge's id for us is known.
  isSelf(p) {
    return String(p.from || "").includes(this.user);
  }
}
