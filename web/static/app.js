// The page: the join form, one call at a time (WHIP or SIP over WebSocket), the microphone, mute
// and leave, and the participant list fed by the room's events. State lives in `call`; the DOM
// shows it: #status carries data-state (idle, connecting, connected, reconnecting, failed,
// ended) for people (role=status) and for the end-to-end tests alike. The page's address
// #moderate opens the moderator view (moderate.js), with or without a call; the link confd
// prints at start, #moderate?token=TOKEN, also fills in the API token (a fragment never
// reaches a server), which the page then takes out of the address.
//
// The call's participant list reads the room with the API token when one was typed, else with
// the read-only room token the bridge gave this call when it answered (X-Confd-Room-Token).

import { API, explainAPIError } from "./api.js";
import { EventStream } from "./events.js";
import { Roster } from "./roster.js";
import { WhipCall } from "./whip.js";
import { SipCall } from "./sipws.js";
import { ModeratorView } from "./moderate.js";
import { RoomPicker } from "./rooms.js";
import { CallInBox, fetchInfo } from "./callin.js";

const $ = (id) => document.getElementById(id);
const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;
const levelPoll = 1000; // ms between level refreshes (the events carry talking, not levels)

const ui = {
  alert: $("alert"),
  form: $("join-form"), room: $("room"), name: $("name"), mic: $("mic"), pin: $("pin"),
  token: $("token"), raw: $("raw"), join: $("join"),
  joinSection: $("join-section"), callSection: $("call-section"), callRoom: $("call-room"),
  status: $("status"), mute: $("mute"), leave: $("leave"), callMic: $("call-mic"),
  micLevel: $("mic-level"), audio: $("remote-audio"),
  peopleSection: $("people-section"), people: $("people"), peopleCount: $("people-count"),
  peopleNote: $("people-note"), announce: $("announce"),
  navJoin: $("nav-join"), navModerate: $("nav-moderate"), modSection: $("moderate-section"),
  modHeading: $("moderate"),
};

const moderator = new ModeratorView({
  form: $("mod-form"), room: $("mod-room"), token: $("mod-token"), panel: $("mod-panel"),
  stop: $("mod-stop"), status: $("mod-status"), alert: $("mod-alert"), note: $("mod-note"),
  muteAll: $("mod-mute-all"), record: $("mod-record"), recordState: $("mod-record-state"),
  list: $("mod-people"), count: $("mod-count"), listHeading: $("mod-people-heading"),
  roomName: $("mod-room-name"), announce: $("mod-announce"),
}, {
  onChange: () => {
    // A token good enough to moderate serves the call's participant list too.
    if (call && moderator.watching) useToken($("mod-token").value.trim() || call.conn.roomToken);
    showSections();
  },
});

// The moderator's rooms (live, and declared ones while empty): a press watches one.
const picker = new RoomPicker({ list: $("mod-rooms"), status: $("mod-rooms-status"), refresh: $("mod-rooms-refresh") }, {
  token: () => $("mod-token").value.trim(),
  pick: (room) => {
    $("mod-room").value = room;
    moderator.watch(room);
  },
});

// listRooms fills the rooms when the moderator view is open and a token is there.
function listRooms() {
  if (isModerate() && $("mod-token").value.trim()) picker.load();
}

const roster = new Roster(ui.people, ui.peopleCount);
let call = null; // {room, conn, stream, api, events, poll, meter}

function showAlert(text) {
  ui.alert.textContent = text;
  ui.alert.hidden = !text;
}

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

// micError turns a getUserMedia failure into what the person can do about it.
function micError(err) {
  if (!window.isSecureContext || !navigator.mediaDevices) {
    return "Browsers give the microphone only to https:// pages or to localhost. Open this page over https (confd -tls-cert/-tls-key, or -tls-self-signed to try it) or on localhost.";
  }
  switch (err && err.name) {
    case "NotAllowedError": case "SecurityError":
      return "The microphone was refused. Allow microphone access for this site (the icon in the address bar), then press Join again.";
    case "NotFoundError": case "OverconstrainedError":
      return "No microphone was found. Plug one in or choose another, then press Join again.";
    case "NotReadableError": case "AbortError":
      return "The microphone could not be opened: another program may be using it.";
    default:
      return `The microphone could not be used: ${err && err.message ? err.message : err}.`;
  }
}

function audioConstraints() {
  const raw = ui.raw.checked;
  const c = { echoCancellation: !raw, noiseSuppression: !raw, autoGainControl: !raw, channelCount: 1 };
  const id = call && call.conn ? ui.callMic.value : ui.mic.value;
  if (id) c.deviceId = { exact: id };
  return { audio: c, video: false };
}

// listMics fills both microphone menus; labels appear once the microphone was granted.
async function listMics() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput");
  for (const select of [ui.mic, ui.callMic]) {
    const keep = select.value;
    select.replaceChildren(new Option("Default microphone", ""));
    devices.forEach((d, i) => {
      if (d.deviceId && d.deviceId !== "default") select.add(new Option(d.label || `Microphone ${i + 1}`, d.deviceId));
    });
    select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
  }
}

// MicMeter shows the local microphone's level, so a person sees the right one is picked.
class MicMeter {
  constructor(stream, meter) {
    this.meter = meter;
    this.ctx = new AudioContext();
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.buf = new Float32Array(this.analyser.fftSize);
    this.attach(stream);
    this.timer = setInterval(() => this.update(), 100);
  }
  attach(stream) {
    if (this.source) this.source.disconnect();
    this.source = this.ctx.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
  }
  update() {
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const v of this.buf) sum += v * v;
    const db = 10 * Math.log10(sum / this.buf.length + 1e-12);
    this.meter.value = Math.max(-60, Math.min(0, db));
  }
  close() {
    clearInterval(this.timer);
    this.ctx.close().catch(() => {});
  }
}

async function join(ev) {
  ev.preventDefault();
  showAlert("");
  const room = ui.room.value.trim();
  if (!roomPattern.test(room)) {
    ui.room.setAttribute("aria-invalid", "true");
    showAlert("Enter a room name of 1 to 64 letters, digits, - or _.");
    ui.room.focus();
    return;
  }
  ui.room.removeAttribute("aria-invalid");
  const pin = ui.pin.value.trim();
  if (pin && !/^[0-9]{1,16}$/.test(pin)) {
    showAlert("A room PIN is 1 to 16 digits.");
    ui.pin.focus();
    return;
  }
  const name = ui.name.value.trim();
  const mode = ui.form.elements.mode.value;
  try { localStorage.setItem("confd.name", name); } catch (_) { /* private mode */ }
  history.replaceState(null, "", `?room=${encodeURIComponent(room)}`);

  ui.join.disabled = true;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(audioConstraints());
  } catch (err) {
    ui.join.disabled = false;
    showAlert(micError(err));
    return;
  }
  await listMics();
  ui.callMic.value = ui.mic.value;

  const api = new API({ token: ui.token.value.trim() });
  const Call = mode === "sip" ? SipCall : WhipCall;
  const conn = new Call({ room, name, pin, stream, audio: ui.audio, onState });
  call = { room, conn, stream, api, events: null, poll: 0, meter: new MicMeter(stream, ui.micLevel) };

  ui.callRoom.textContent = room;
  showSections();
  setStatus("connecting", `Connecting to room ${room}…`);
  ui.leave.focus();
  try {
    await conn.start();
  } catch (err) {
    const mine = call && call.conn === conn;
    await leave();
    if (mine) showAlert(err.message || String(err));
    return;
  }
  if (!call || call.conn !== conn) return; // left while connecting
  if (!api.token) api.token = conn.roomToken || "";
  // WHIP answers before ICE completes; a SIP call is up once it is answered.
  if (mode === "sip" || (conn.pc && conn.pc.connectionState === "connected")) onState("connected");
  startRoster(call);
}

function onState(state, detail) {
  if (!call) return;
  const who = ui.name.value.trim();
  switch (state) {
    case "connected":
      setStatus("connected", `Connected to room ${call.room}${who ? " as " + who : ""}.${ui.mute.getAttribute("aria-pressed") === "true" ? " Your microphone is muted." : ""}`);
      break;
    case "reconnecting":
      setStatus("reconnecting", "The connection is interrupted; trying to recover…");
      break;
    case "failed":
    case "ended":
      setStatus(state, detail || "The call ended.");
      showAlert(detail || "The call ended.");
      leave({ keepStatus: true });
      break;
  }
}

function startRoster(c) {
  ui.peopleNote.hidden = true;
  roster.setSelf(c.conn.id, c.conn.isSelf ? (p) => c.conn.isSelf(p) : null);
  const refresh = async () => {
    try {
      const st = await c.api.room(c.room);
      roster.reset(st.participants);
      if (!roster.selfID) { // a SIP call learns its id from its own row
        const me = [...roster.people.values()].find((p) => roster.isSelf(p));
        if (me) roster.setSelf(me.id);
      }
      showSections();
      ui.peopleNote.hidden = true;
    } catch (err) {
      if (err.status === 404) roster.reset([]);
      else { ui.peopleNote.textContent = explainAPIError(err); ui.peopleNote.hidden = false; }
      // Without the right token asking again only repeats the refusal: a new token restarts it.
      if (err.status === 401 || err.status === 403) stopRoster(c);
    }
  };
  c.events = new EventStream(c.api, c.room, {
    onOpen: refresh,
    onEvent: (ev) => {
      const said = roster.apply(ev);
      if (said && call === c) ui.announce.textContent = said;
    },
    onError: (err, final) => {
      if (final) { ui.peopleNote.textContent = explainAPIError(err); ui.peopleNote.hidden = false; }
    },
  });
  c.events.start();
  c.poll = setInterval(() => { if (!document.hidden) refresh(); }, levelPoll);
  showSections();
}

// showSections shows what the address and the state call for: the join form (no call, not
// #moderate), the call, its participant list (unless the moderator view lists the same room,
// with the same "(you)"), and the moderator view (#moderate).
function showSections() {
  const moderate = isModerate();
  ui.modSection.hidden = !moderate;
  ui.joinSection.hidden = !!call || moderate;
  ui.callSection.hidden = !call;
  const sameRoom = !!call && moderate && moderator.watching === call.room;
  ui.peopleSection.hidden = !call || !call.events || sameRoom;
  if (sameRoom) moderator.setSelf(roster.selfID, roster.selfID ? null : roster.selfHint);
  else moderator.setSelf("", null);
  ui.navJoin.textContent = call ? "Call" : "Join";
  for (const [link, here] of [[ui.navJoin, !moderate], [ui.navModerate, moderate]]) {
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// isModerate reports whether the address asks for the moderator view: #moderate, with or
// without parameters (#moderate?token=…&room=…).
function isModerate() {
  return location.hash.split("?")[0] === "#moderate";
}

// takeModerateParams fills the moderator's fields from #moderate?token=…&room=… and leaves
// #moderate in the address, so the token stays out of the history and of shared links.
function takeModerateParams() {
  const [view, query] = location.hash.split("?");
  if (view !== "#moderate" || query === undefined) return;
  const q = new URLSearchParams(query);
  const token = (q.get("token") || "").trim();
  if (token) {
    $("mod-token").value = token;
    ui.token.value = token;
  }
  if (roomPattern.test(q.get("room") || "")) $("mod-room").value = q.get("room");
  history.replaceState(history.state, "", location.pathname + location.search + "#moderate");
}

// route follows the address: opening #moderate offers the call's room and the token already
// typed, and moves the focus to the view's heading.
function route() {
  takeModerateParams();
  if (isModerate()) {
    const mod = $("mod-room");
    if (!mod.value) mod.value = call ? call.room : ui.room.value.trim();
    if (!$("mod-token").value) $("mod-token").value = ui.token.value;
    listRooms();
  }
  showSections();
  (isModerate() ? ui.modHeading : call ? $("call-heading") : $("join-heading")).focus();
}

function stopRoster(c) {
  if (c.events) c.events.stop();
  clearInterval(c.poll);
}

// useToken gives the call's participant list a new token (the moderator's API token, or back
// to the call's room token), and starts it again.
function useToken(token) {
  if (!call || call.api.token === token) return;
  call.api.token = token;
  if (call.events) {
    stopRoster(call);
    startRoster(call);
  }
}

async function leave({ keepStatus = false } = {}) {
  const c = call;
  if (!c) return;
  call = null;
  stopRoster(c);
  c.meter.close();
  await c.conn.stop().catch(() => {});
  c.stream.getTracks().forEach((t) => t.stop());
  ui.audio.srcObject = null;
  roster.clear();
  ui.mute.setAttribute("aria-pressed", "false");
  showSections();
  ui.join.disabled = false;
  if (!keepStatus) setStatus("idle", "Not connected.");
  if (!ui.joinSection.hidden) ui.join.focus();
}

function toggleMute() {
  if (!call) return;
  const muted = ui.mute.getAttribute("aria-pressed") !== "true";
  call.stream.getAudioTracks().forEach((t) => { t.enabled = !muted; });
  ui.mute.setAttribute("aria-pressed", String(muted));
  if (ui.status.dataset.state === "connected") onState("connected");
}

// switchMic moves the call to another microphone without renegotiating (replaceTrack).
async function switchMic() {
  if (!call) return;
  const c = call;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(audioConstraints());
  } catch (err) {
    showAlert(micError(err));
    return;
  }
  const track = stream.getAudioTracks()[0];
  track.enabled = ui.mute.getAttribute("aria-pressed") !== "true";
  await c.conn.replaceTrack(track);
  c.stream.getTracks().forEach((t) => t.stop());
  c.stream = stream;
  c.meter.attach(stream);
  ui.mic.value = ui.callMic.value;
}

function init() {
  const q = new URLSearchParams(location.search);
  if (roomPattern.test(q.get("room") || "")) {
    ui.room.value = q.get("room");
    $("mod-room").value = q.get("room");
  }
  if (q.get("mode") === "sip") ui.form.elements.mode.value = "sip";
  if (q.get("audio") === "raw") ui.raw.checked = true;
  try { ui.name.value = localStorage.getItem("confd.name") || ""; } catch (_) { /* private mode */ }
  ui.form.addEventListener("submit", join);
  ui.leave.addEventListener("click", () => leave());
  ui.mute.addEventListener("click", toggleMute);
  ui.callMic.addEventListener("change", switchMic);
  if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", listMics);
  window.addEventListener("pagehide", () => { if (call) call.conn.stop(); });
  window.addEventListener("hashchange", route);
  takeModerateParams();
  // One token, two fields: the join form's (for its participant list) and the moderator's.
  // Typing only mirrors the fields: restarting the list would move the page under the pointer.
  ui.token.addEventListener("input", () => { $("mod-token").value = ui.token.value; });
  $("mod-token").addEventListener("input", () => { ui.token.value = $("mod-token").value; });
  $("mod-token").addEventListener("change", listRooms);
  listRooms();
  // How others join the room typed: SIP URI, dial-in numbers, a link (GET /api/info).
  fetchInfo().then((info) => new CallInBox({
    box: $("callin"), room: ui.room, roomName: $("callin-room"), sip: $("callin-sip"), sipRow: $("callin-sip-row"),
    dialIn: $("callin-dialin"), dialInNote: $("callin-dialin-note"), share: $("callin-share"),
  }, info, location.origin));
  showSections();
  listMics().catch(() => {});
  if (!window.isSecureContext) showAlert(micError(null));
}

init();
