// The moderator view (docs/SPEC.md "Control API"): a room's participants with their names, levels and
// talking, and for each one Mute, Deafen, a role (normal; coach, heard only by the participant
// it coaches; monitor, who hears the room and is heard by no one) and Remove after a
// confirmation; Mute everyone; recording started and stopped. It needs no call of its own: a
// moderator may watch a room with the API token from anywhere, or moderate the call they are in.
//
// The decisions (what a row offers, which PATCH a control sends, what a refusal means, what the
// recording line says) are plain functions, tested by node (jstest/moderate.test.mjs);
// ModeratorView binds them to the page's elements and to the room's event stream.

import { API } from "./api.js";
import { EventStream } from "./events.js";
import { Roster, label } from "./roster.js";

const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;
const levelPoll = 1000; // ms between level refreshes (the events carry talking, not levels)

// roles are the choices of a row's role menu, as the API spells them and as people read them.
export const roles = [
  { value: "normal", text: "Normal" },
  { value: "coach", text: "Coach" },
  { value: "monitor", text: "Monitor" },
];

// sentence ends text with one full stop.
function sentence(text) {
  const t = String(text || "").trim();
  return /[.!?]$/.test(t) ? t : t + ".";
}

// explainModeration turns a refused API call into a sentence a moderator can act on. what names
// the action ("mute Ada"); token says whether an API token was given; gone replaces the server's
// text for a 404 (the participant left, the room emptied).
export function explainModeration(err, what, { token = false, gone = "" } = {}) {
  // confd's reasons start with the Go package that refused ("recording: "): not for people.
  const server = err && err.message ? String(err.message).replace(/^([a-z]+: )+/, "") : "";
  const status = err && typeof err.status === "number" ? err.status : -1;
  switch (status) {
    case 0:
      return `Could not ${what}: the bridge cannot be reached.`;
    case 401:
      return token
        ? `Could not ${what}: the bridge refused this API token. Correct it and press Watch room again.`
        : `Could not ${what}: the bridge needs its API token. Enter it and press Watch room again.`;
    case 403:
      return sentence(`Could not ${what}: the bridge refused it${server ? ": " + server : ""}`);
    case 404:
      return sentence(`Could not ${what}: ${gone || server || "it is not there"}`);
    case 400:
      return sentence(`The bridge refused to ${what}: ${server}`);
    case -1:
      return sentence(`Could not ${what}: ${server || err}`);
    default: // 409 and the rest carry the bridge's own reason
      return sentence(`Could not ${what}: ${server || `the bridge answered ${status}`}`);
  }
}

// shortID is a participant id as people read it: a ULID's last four characters (its random
// tail, which tells apart the few people who share a name), a short id whole.
export function shortID(id) {
  return id.length > 6 ? id.slice(-4) : id;
}

// displayNames gives everyone a name people can tell apart: label(p), with the participant id
// added where two share one (two guests, two browsers called Ada).
export function displayNames(people) {
  const count = new Map();
  for (const p of people) count.set(label(p), (count.get(label(p)) || 0) + 1);
  const names = new Map();
  for (const p of people) names.set(p.id, count.get(label(p)) > 1 ? `${label(p)} #${shortID(p.id)}` : label(p));
  return names;
}

// participantView is what one moderator row shows: the participant's state as the API gives it
// (people is everyone in the room, p included), and the names of who it may coach.
export function participantView(p, people, names = displayNames(people)) {
  const role = roles.some((r) => r.value === p.role) ? p.role : "normal";
  const target = role === "coach" ? p.target || "" : "";
  const view = {
    id: p.id, name: names.get(p.id) || label(p), muted: !!p.muted, deaf: !!p.deaf, role, target,
    targetName: target ? names.get(target) || `#${shortID(target)}` : "",
    canCoach: people.some((q) => q.id !== p.id),
    targets: [],
  };
  // Only a coach's row shows its target menu: a big room does not build one per row.
  if (role === "coach") {
    view.targets = people.filter((q) => q.id !== p.id).map((q) => ({ id: q.id, text: names.get(q.id) || label(q) }));
  }
  return view;
}

// ModerationError is a control the page refuses before asking the bridge.
export class ModerationError extends Error {
  constructor(message) {
    super(message);
    this.name = "ModerationError";
  }
}

// changeFor is the PATCH body a row's control sends for participant p: "mute" and "deaf" toggle,
// "role" sets the menu's value (a new coach keeps its target if it is still there, else coaches
// the first other participant), "target" points a coach at value.
export function changeFor(control, p, people, value) {
  switch (control) {
    case "mute":
      return { muted: !p.muted };
    case "deaf":
      return { deaf: !p.deaf };
    case "role": {
      if (!roles.some((r) => r.value === value)) throw new ModerationError(`There is no role "${value}".`);
      if (value !== "coach") return { role: value };
      const others = people.filter((q) => q.id !== p.id);
      if (!others.length) throw new ModerationError(`${label(p)} cannot coach: nobody else is in the room.`);
      return { role: "coach", target: others.some((q) => q.id === p.target) ? p.target : others[0].id };
    }
    case "target":
      return { role: "coach", target: value };
    default:
      throw new ModerationError(`Unknown control "${control}".`);
  }
}

// describeChange names a change for an error ("mute Ada") and for its outcome.
export function describeChange(change, name, targetName = "") {
  if ("muted" in change) {
    return change.muted
      ? { action: `mute ${name}`, done: `${name} is muted: no one hears them.` }
      : { action: `unmute ${name}`, done: `${name} is heard again.` };
  }
  if ("deaf" in change) {
    return change.deaf
      ? { action: `deafen ${name}`, done: `${name} is deafened: they hear nothing.` }
      : { action: `undeafen ${name}`, done: `${name} hears the room again.` };
  }
  switch (change.role) {
    case "coach":
      return { action: `make ${name} coach ${targetName}`, done: `${name} coaches ${targetName}: only ${targetName} hears them.` };
    case "monitor":
      return { action: `make ${name} a monitor`, done: `${name} is a monitor: they hear the room and no one hears them.` };
    default:
      return { action: `make ${name} a normal participant`, done: `${name} is a normal participant again.` };
  }
}

// maxGainPercent is the bridge's largest gain (4, docs/SPEC.md "Control API") in the sliders' percent.
export const maxGainPercent = 400;

// gainOf is the gain listener hears speaker at: the explicit pair's, else 1.
export function gainOf(pairs, listener, speaker) {
  const g = (pairs || []).find((x) => x.listener === listener && x.speaker === speaker);
  return g ? g.gain : 1;
}

// matrixWith returns the explicit pairs with (listener, speaker) at gain. A gain of 1 is what an
// absent pair means, so it leaves the list; pairs of anyone not in ids (who left) are dropped,
// since the bridge refuses the whole list for one unknown id.
export function matrixWith(pairs, listener, speaker, gain, ids) {
  const out = (pairs || []).filter((g) => !(g.listener === listener && g.speaker === speaker) &&
    (!ids || (ids.has(g.listener) && ids.has(g.speaker))));
  if (gain !== 1) out.push({ listener, speaker, gain });
  return out;
}

// gainText is a gain as people read it: a percentage of the speaker's own level.
export function gainText(gain) {
  return `${Math.round(gain * 100)} %`;
}

// fileName is the last element of a recording's path.
function fileName(path) {
  return String(path || "").split(/[\\/]/).pop();
}

function duration(seconds) {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

// recordingView is what the recording toggle and its line say for a recording state: the API's
// {recording, file} or a recording event's data folded by recordingFromEvent.
export function recordingView(st) {
  const file = fileName(st && st.file);
  if (st && st.recording) return { pressed: true, file, text: file ? `Recording to ${file}` : "Recording" };
  if (st && st.error) return { pressed: false, file, text: `The recording ${file} stopped with an error: ${st.error}` };
  if (file) {
    const secs = Number(st.duration_seconds);
    return { pressed: false, file, text: `Saved ${file}${secs > 0 ? ` (${duration(secs)})` : ""}` };
  }
  return { pressed: false, file: "", text: "Not recording" };
}

// recordingFromEvent turns a "recording" event into the API's recording state.
export function recordingFromEvent(ev) {
  const d = (ev && ev.data) || {};
  const st = { room: ev.room, recording: d.state === "started", file: d.file || "" };
  const secs = d.duration_seconds ?? d.duration_s; // duration_s: a confd before issue 12
  if (secs !== undefined) st.duration_seconds = secs;
  if (d.error) st.error = d.error;
  return st;
}

// mergeRecording folds a newer recording state into the one shown: the stop's answer and its
// event (which alone carries the duration) may arrive in either order.
export function mergeRecording(shown, st) {
  if (shown && st && shown.file && shown.file === st.file && shown.recording === st.recording) return { ...shown, ...st };
  return { ...st };
}

// ModeratorView is the page's moderate section. el holds its elements (index.html: form, room,
// token, panel, stop, status, alert, note, muteAll, record, recordState, list, count, listHeading,
// announce); onChange() runs when it starts or stops watching a room.
export class ModeratorView {
  constructor(el, { onChange = () => {} } = {}) {
    this.el = el;
    this.onChange = onChange;
    this.roster = new Roster(el.list, el.count, {
      decorate: (li, p) => this.decorate(li, p),
      nameOf: (p) => this.context().names.get(p.id) || label(p), // two guests told apart
    });
    this.room = "";
    this.api = null;
    this.events = null;
    this.poll = 0;
    this.busy = new Set(); // "id:control" of requests in flight: a second click waits for the first
    this.confirming = ""; // the id whose Remove awaits confirmation
    this.rec = { recording: false };
    this.names = null; // displayNames of the room, dropped whenever someone joins or leaves
    this.matrix = null; // the explicit gain pairs, read when a row's Volumes first opens
    el.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.watch(el.room.value.trim());
    });
    el.stop.addEventListener("click", () => {
      this.stop();
      el.room.focus();
    });
    el.muteAll.addEventListener("click", () => this.muteAll());
    el.record.addEventListener("click", () => this.toggleRecording());
    el.list.addEventListener("click", (ev) => this.onRowClick(ev));
    el.list.addEventListener("change", (ev) => this.onRowChange(ev));
    el.list.addEventListener("input", (ev) => { // a slider's number follows it while it moves
      if (!ev.target.matches("input[data-control=gain]")) return;
      ev.target.dataset.moving = "1"; // the level refresh leaves it alone until it is let go
      ev.target.nextElementSibling.value = gainText(ev.target.value / 100);
    });
    el.list.addEventListener("toggle", (ev) => this.onToggle(ev), true); // toggle does not bubble
    el.list.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.confirming) this.closeConfirm(true);
    });
  }

  // watching is the room being watched, or "".
  get watching() {
    return this.room;
  }

  // setSelf marks the moderator's own row when they are in the call too (see Roster.setSelf).
  setSelf(id, hint = null) {
    if (this.roster.selfID === (id || "") && this.roster.selfHint === hint) return;
    this.roster.setSelf(id, hint);
  }

  async watch(room) {
    const el = this.el;
    this.showAlert("");
    if (!roomPattern.test(room)) {
      el.room.setAttribute("aria-invalid", "true");
      this.showAlert("Enter a room name of 1 to 64 letters, digits, - or _.");
      el.room.focus();
      return;
    }
    el.room.removeAttribute("aria-invalid");
    this.stop({ quiet: true });
    const api = new API({ token: el.token.value.trim() });
    this.api = api;
    this.room = room;
    this.names = null;
    el.panel.hidden = false;
    el.roomName.textContent = room;
    this.setStatus("connecting", `Opening room ${room}…`);
    this.events = new EventStream(api, room, {
      onOpen: () => this.refresh(api, true),
      onEvent: (ev) => this.onEvent(api, ev),
      onError: (err, final) => {
        if (this.api !== api) return;
        if (final) this.fail(err);
        else this.setStatus("reconnecting", "The room's event stream is interrupted; reconnecting…");
      },
    });
    this.events.start();
    this.poll = setInterval(() => {
      if (!document.hidden) this.refresh(api, false);
    }, levelPoll);
    this.onChange();
  }

  // stop ends watching and clears the view.
  stop({ quiet = false } = {}) {
    if (this.events) this.events.stop();
    clearInterval(this.poll);
    const was = this.room;
    this.api = null;
    this.events = null;
    this.room = "";
    this.confirming = "";
    this.busy.clear();
    this.names = null;
    this.matrix = null;
    this.roster.clear();
    this.showRecording({ recording: false });
    this.el.panel.hidden = true;
    this.el.note.textContent = "";
    if (!quiet) {
      this.setStatus("idle", "Not watching a room.");
      this.showAlert("");
    }
    if (was) this.onChange();
  }

  // fail stops watching after a refusal that retrying cannot fix (token, cross-site, bad name).
  fail(err) {
    const room = this.room;
    const token = !!(this.api && this.api.token);
    this.stop({ quiet: true });
    this.setStatus("failed", `Not watching room ${room}.`);
    this.showAlert(explainModeration(err, `watch room ${room}`, { token }));
    if (err.status === 401 || err.status === 403) this.el.token.focus();
  }

  // refresh reads the room (levels, full state) and, with withRecording, its recording state.
  async refresh(api, withRecording) {
    const room = this.room;
    try {
      const st = await api.room(room);
      if (this.api !== api) return;
      this.names = null;
      this.roster.reset(st.participants);
      this.setStatus("watching", `Watching room ${room}.`);
    } catch (err) {
      if (this.api !== api) return;
      if (err.status === 404) {
        this.names = null;
        this.roster.reset([]);
        this.setStatus("waiting", `Room ${room} has nobody in it yet; waiting for someone to join.`);
      } else if (err.status === 401 || err.status === 403 || err.status === 400) {
        this.fail(err);
        return;
      } else {
        this.setStatus("reconnecting", explainModeration(err, `read room ${room}`));
      }
    }
    if (!withRecording) return;
    try {
      const rec = await api.recording(room);
      if (this.api === api) this.showRecording(rec);
    } catch (_) { /* the next event or refresh tells */ }
  }

  onEvent(api, ev) {
    if (this.api !== api) return;
    if (ev.type === "recording") {
      this.showRecording(recordingFromEvent(ev));
      return;
    }
    if (ev.type === "join" || ev.type === "leave") this.names = null;
    if (ev.type === "leave" && ev.participant === this.confirming) this.confirming = "";
    const said = this.roster.apply(ev);
    if (said) this.el.announce.textContent = said;
    if (ev.type === "join") this.refresh(api, false); // the event lacks the full state
  }

  // context is everyone in the room and their display names, computed once per change of who is in.
  context() {
    const people = [...this.roster.people.values()];
    if (!this.names) this.names = displayNames(people);
    return { people, names: this.names };
  }

  // decorate adds the row's controls once and shows the participant's state on every redraw.
  decorate(li, p) {
    let box = li.querySelector(".mod");
    if (!box) {
      box = document.createElement("div");
      box.className = "mod";
      box.setAttribute("role", "group");
      box.innerHTML =
        '<button type="button" data-control="mute" aria-pressed="false">Mute</button>' +
        '<button type="button" data-control="deaf" aria-pressed="false">Deafen</button>' +
        '<label class="inline">Role <select data-control="role">' +
        roles.map((r) => `<option value="${r.value}">${r.text}</option>`).join("") + "</select></label>" +
        '<label class="inline target" hidden>Coaching <select data-control="target"></select></label>' +
        '<button type="button" data-control="kick" class="danger" aria-expanded="false">Remove</button>' +
        '<details class="gains"><summary></summary><div class="gain-list"></div></details>' +
        '<div class="confirm" hidden><span class="question"></span> ' +
        '<button type="button" data-control="kick-yes" class="danger">Yes, remove</button> ' +
        '<button type="button" data-control="kick-no">Cancel</button></div>';
      li.appendChild(box);
    }
    const { people, names } = this.context();
    const v = participantView(p, people, names);
    const q = (sel) => box.querySelector(sel);
    box.setAttribute("aria-label", `Controls for ${v.name}`);
    const mute = q("[data-control=mute]");
    mute.setAttribute("aria-pressed", String(v.muted));
    mute.setAttribute("aria-label", `Mute ${v.name}`);
    const deaf = q("[data-control=deaf]");
    deaf.setAttribute("aria-pressed", String(v.deaf));
    deaf.setAttribute("aria-label", `Deafen ${v.name}`);
    const role = q("[data-control=role]");
    role.setAttribute("aria-label", `Role of ${v.name}`);
    role.querySelector("option[value=coach]").disabled = !v.canCoach && v.role !== "coach";
    if (!this.busy.has(`${p.id}:role`)) role.value = v.role; // a pending choice stays shown
    const target = q("[data-control=target]");
    target.setAttribute("aria-label", `Coaching: the one participant who hears ${v.name}`);
    q("label.target").hidden = v.role !== "coach";
    const key = v.targets.map((t) => `${t.id}\u0000${t.text}`).join("\u0001");
    if (target.dataset.key !== key) { // rebuilt only when who is in changes: keeps focus and keyboard
      target.replaceChildren(...v.targets.map((t) => new Option(t.text, t.id)));
      target.dataset.key = key;
    }
    if (!this.busy.has(`${p.id}:target`)) target.value = v.target;
    const kick = q("[data-control=kick]");
    kick.setAttribute("aria-label", `Remove ${v.name}`);
    const confirming = this.confirming === p.id;
    kick.setAttribute("aria-expanded", String(confirming));
    q(".confirm").hidden = !confirming;
    q(".question").textContent = `Remove ${v.name} from the room?`;
    q(".gains summary").textContent = `Volumes ${v.name} hears`;
    if (q(".gains").open) this.renderGains(box, p, people, names);
  }

  // renderGains fills an open Volumes panel: one slider per other participant, the gain p hears
  // them at. Sliders are rebuilt only when who is in changes, and one in use is left alone.
  renderGains(box, p, people, names) {
    const list = box.querySelector(".gain-list");
    if (!this.matrix) {
      list.textContent = "Reading the volumes…";
      list.dataset.key = "";
      return;
    }
    const others = people.filter((q) => q.id !== p.id);
    const key = others.map((q) => `${q.id}\u0000${names.get(q.id)}`).join("\u0001");
    if (list.dataset.key !== key) {
      list.replaceChildren();
      if (!others.length) list.textContent = "Nobody else is in the room.";
      for (const q of others) {
        const row = document.createElement("label");
        row.className = "gain";
        row.innerHTML = `<span class="speaker"></span><input type="range" data-control="gain" min="0" max="${maxGainPercent}" step="5"><output></output>`;
        row.querySelector(".speaker").textContent = names.get(q.id);
        const slider = row.querySelector("input");
        slider.dataset.speaker = q.id;
        slider.setAttribute("aria-label", `${names.get(q.id)}, as ${names.get(p.id)} hears them`);
        list.appendChild(row);
      }
      list.dataset.key = key;
    }
    for (const slider of list.querySelectorAll("input[data-control=gain]")) {
      if (slider.dataset.moving || this.busy.has(`${p.id}:gain:${slider.dataset.speaker}`)) continue;
      const gain = gainOf(this.matrix, p.id, slider.dataset.speaker);
      slider.value = String(Math.round(gain * 100));
      slider.setAttribute("aria-valuetext", gainText(gain));
      slider.nextElementSibling.value = gainText(gain);
    }
  }

  // onToggle reads the matrix when a Volumes panel opens (there are no events for it: another
  // moderator's change shows on the next opening).
  async onToggle(ev) {
    const details = ev.target;
    if (!details.matches || !details.matches("details.gains") || !details.open) return;
    const api = this.api;
    const li = details.closest("li");
    const p = li && this.roster.people.get(li.dataset.id);
    if (!api || !p) return;
    this.roster.renderRow(p); // "Reading the volumes…"
    try {
      const pairs = await api.matrix(this.room);
      if (this.api !== api) return;
      this.matrix = pairs || [];
    } catch (err) {
      if (this.api !== api) return;
      this.showAlert(explainModeration(err, "read the volumes", { token: !!api.token, gone: `room ${this.room} has nobody in it` }));
      details.open = false;
      return;
    }
    const now = this.roster.people.get(p.id);
    if (now) this.roster.renderRow(now);
  }

  // setGain sets how loud listener p hears speaker id: the pairs are read again first (another
  // moderator may have changed them), and the whole list is put back with this one changed.
  async setGain(p, speaker, gain) {
    const api = this.api;
    if (!api) return;
    const key = `${p.id}:gain:${speaker}`;
    const { names } = this.context();
    const what = `set how loud ${names.get(p.id)} hears ${names.get(speaker) || `#${shortID(speaker)}`}`;
    this.busy.add(key);
    let failure = "";
    try {
      const pairs = matrixWith(await api.matrix(this.room), p.id, speaker, gain, new Set(this.roster.people.keys()));
      const kept = await api.setMatrix(this.room, pairs);
      if (this.api === api) this.matrix = kept || [];
    } catch (err) {
      failure = explainModeration(err, what, { token: !!api.token, gone: "one of them has left the room" });
    }
    this.busy.delete(key);
    if (this.api !== api) return;
    if (failure) {
      this.showAlert(failure);
      this.matrix = await api.matrix(this.room).catch(() => this.matrix);
    } else {
      this.showAlert("");
      this.note(`${names.get(p.id)} hears ${names.get(speaker)} at ${gainText(gain)}.`);
    }
    const now = this.roster.people.get(p.id);
    if (now) this.roster.renderRow(now);
  }

  row(id) {
    return this.roster.rows.get(id);
  }

  onRowClick(ev) {
    const btn = ev.target.closest("button[data-control]");
    const li = btn && btn.closest("li");
    const p = li && this.roster.people.get(li.dataset.id);
    if (!p) return;
    switch (btn.dataset.control) {
      case "mute":
      case "deaf":
        this.change(p, btn.dataset.control);
        break;
      case "kick":
        if (this.confirming === p.id) {
          this.closeConfirm(true);
          break;
        }
        if (this.confirming) this.closeConfirm(false);
        this.confirming = p.id;
        this.roster.renderRow(p);
        li.querySelector("[data-control=kick-no]").focus(); // the safe choice first
        break;
      case "kick-no":
        this.closeConfirm(true);
        break;
      case "kick-yes":
        this.kick(p);
        break;
    }
  }

  onRowChange(ev) {
    if (ev.target.matches("input[data-control=gain]")) {
      const li = ev.target.closest("li");
      const p = li && this.roster.people.get(li.dataset.id);
      delete ev.target.dataset.moving; // busy holds it from here
      if (p) this.setGain(p, ev.target.dataset.speaker, Number(ev.target.value) / 100);
      return;
    }
    const select = ev.target.closest("select[data-control]");
    const li = select && select.closest("li");
    const p = li && this.roster.people.get(li.dataset.id);
    if (p) this.change(p, select.dataset.control, select.value);
  }

  // closeConfirm hides the open Remove confirmation; refocus puts the focus back on Remove.
  closeConfirm(refocus) {
    const id = this.confirming;
    this.confirming = "";
    const p = this.roster.people.get(id);
    if (!p) return;
    this.roster.renderRow(p);
    if (refocus) this.row(id).querySelector("[data-control=kick]").focus();
  }

  // change sends one row control's PATCH and shows the bridge's answer.
  async change(p, control, value) {
    const api = this.api;
    if (!api) return;
    const key = `${p.id}:${control}`;
    if (this.busy.has(key)) return;
    const { people, names } = this.context();
    let change;
    try {
      change = changeFor(control, p, people, value);
    } catch (err) {
      this.showAlert(err.message);
      this.roster.renderRow(p);
      return;
    }
    const name = names.get(p.id) || label(p);
    const { action, done } = describeChange(change, name, change.target ? names.get(change.target) || `#${shortID(change.target)}` : "");
    this.busy.add(key);
    let st = null;
    let failure = "";
    try {
      st = await api.patchParticipant(this.room, p.id, change);
    } catch (err) {
      failure = explainModeration(err, action, { token: !!api.token, gone: `${name} is no longer in the room` });
    }
    this.busy.delete(key);
    if (this.api !== api) return;
    if (st) {
      this.roster.update(st);
      this.showAlert("");
      this.note(done);
    } else {
      this.showAlert(failure);
      const now = this.roster.people.get(p.id);
      if (now) this.roster.renderRow(now); // the menus show the bridge's state again
    }
  }

  async kick(p) {
    const api = this.api;
    const name = this.context().names.get(p.id) || label(p);
    try {
      await api.hangup(this.room, p.id);
    } catch (err) {
      if (this.api !== api) return;
      this.showAlert(explainModeration(err, `remove ${name}`, { token: !!api.token, gone: `${name} is no longer in the room` }));
      return;
    }
    if (this.api !== api) return;
    this.confirming = "";
    this.showAlert("");
    this.note(`${name} was removed from the room.`);
    // The row goes with the leave event; the focus goes to the list's heading, not to nowhere.
    this.el.listHeading.focus();
    const now = this.roster.people.get(p.id);
    if (now) this.roster.renderRow(now);
  }

  async muteAll() {
    const api = this.api;
    if (!api) return;
    const room = this.room;
    try {
      const r = await api.muteAll(room);
      if (this.api !== api) return;
      this.showAlert("");
      const n = r && typeof r.muted === "number" ? r.muted : 0;
      this.note(`${n === 0 ? "Nobody needed muting" : n === 1 ? "Muted 1 participant" : `Muted ${n} participants`}; coaches and monitors are left as they were.`);
      this.refresh(api, false);
    } catch (err) {
      if (this.api !== api) return;
      this.showAlert(explainModeration(err, "mute everyone", { token: !!api.token, gone: `room ${room} has nobody in it` }));
    }
  }

  async toggleRecording() {
    const api = this.api;
    if (!api) return;
    const room = this.room;
    const on = !!this.rec.recording;
    if (this.busy.has("recording")) return;
    this.busy.add("recording");
    try {
      const st = on ? await api.stopRecording(room) : await api.startRecording(room);
      if (this.api !== api) return;
      this.showAlert("");
      this.showRecording(st);
      this.note(on ? "Recording stopped; the file is complete." : "Recording started.");
    } catch (err) {
      if (this.api !== api) return;
      const what = on ? "stop the recording" : "start recording";
      this.showAlert(explainModeration(err, what, { token: !!api.token, gone: on ? "the room is not being recorded" : `room ${room} has nobody in it` }));
      this.refresh(api, true); // whatever the page believed, show what the bridge does
    } finally {
      this.busy.delete("recording");
    }
  }

  showRecording(st) {
    this.rec = mergeRecording(this.rec, st);
    const v = recordingView(this.rec);
    this.el.record.setAttribute("aria-pressed", String(v.pressed));
    this.el.recordState.textContent = v.text;
    this.el.recordState.title = this.rec.file || "";
    this.el.recordState.dataset.file = this.rec.file || "";
    this.el.recordState.dataset.state = v.pressed ? "recording" : "idle";
  }

  setStatus(state, text) {
    this.el.status.dataset.state = state;
    if (this.el.status.textContent !== text) this.el.status.textContent = text; // announced once
  }

  showAlert(text) {
    this.el.alert.textContent = text;
    this.el.alert.hidden = !text;
  }

  note(text) {
    this.el.note.textContent = text;
  }
}
