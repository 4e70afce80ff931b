// The participant list: a model kept from GET /api/rooms/ROOM and the room's events, drawn
// into a <ul>. The moderator view passes decorate(li, participant) to add its own controls.

const levelFloor = -60; // dBov shown as an empty meter

// kinds names the participant kinds the room lists (bridge.ListedKinds): a SIP leg is a phone,
// a WebRTC one a browser (WHIP, WHEP or sip.js over the WebSocket), a cascade leg the link to
// another node. confd's own recorders, players and forwarders are never listed nor announced.
export const kinds = { sip: "phone", webrtc: "browser", cascade: "other node" };

export class Roster {
  // list is the <ul>; count an element for "(N)"; decorate(li, p) an optional hook run on every
  // redraw of a row; nameOf(p) the name a row shows (label by default).
  constructor(list, count, { decorate = null, nameOf = label } = {}) {
    this.list = list;
    this.count = count;
    this.decorate = decorate;
    this.nameOf = nameOf;
    this.people = new Map(); // id → participant state as the API spells it
    this.rows = new Map(); // id → <li>
    this.selfID = "";
    this.selfHint = null; // (p) → bool, to find our own row before its id is known
  }

  // reset replaces the whole list with the API's participants.
  reset(participants) {
    const seen = new Set();
    for (const p of participants || []) {
      seen.add(p.id);
      // The API leaves "target" out unless the participant coaches: no stale target survives.
      this.people.set(p.id, { ...this.people.get(p.id), ...p, target: p.target || "" });
    }
    for (const id of [...this.people.keys()]) if (!seen.has(id)) this.people.delete(id);
    this.render();
  }

  // apply folds one event into the list and returns a sentence worth announcing, or "".
  apply(ev) {
    const p = this.people.get(ev.participant);
    const d = ev.data || {};
    switch (ev.type) {
      case "join":
        this.people.set(ev.participant, { id: ev.participant, name: d.name || "", from: d.from || "",
          kind: d.kind || "", codec: d.codec || "", role: d.role || "normal", moderator: !!d.moderator,
          muted: false, deaf: false, talking: false, level_dbov: -127, joined_at: ev.time, ...p });
        this.render();
        return this.isSelf(this.people.get(ev.participant)) ? "" : `${label(this.people.get(ev.participant))} joined.`;
      case "cascade": // another node's link: listed as GET lists it, never announced as a person
        if (d.state === "left") this.people.delete(ev.participant);
        else this.people.set(ev.participant, { id: ev.participant, name: d.name || "", kind: "cascade",
          cascade: true, node: d.node || "", codec: d.codec || "", role: "normal", joined_at: ev.time, ...p });
        this.render();
        return "";
      case "leave":
        if (!p) return "";
        this.people.delete(ev.participant);
        this.render();
        return `${label(p)} left.`;
      case "talking":
        if (p) { p.talking = !!d.talking; this.renderRow(p); }
        return "";
      case "mute":
        if (p) {
          if ("muted" in d) p.muted = !!d.muted;
          if ("deaf" in d) p.deaf = !!d.deaf;
          this.renderRow(p);
        }
        return "";
      case "role":
        if (p) {
          if (d.role) p.role = d.role;
          if ("moderator" in d) p.moderator = !!d.moderator;
          p.target = d.target || "";
          this.renderRow(p);
        }
        return "";
      default:
        return "";
    }
  }

  // update merges one participant's state as the API answers a PATCH and redraws its row.
  update(st) {
    const p = st && this.people.get(st.id);
    if (!p) return;
    Object.assign(p, st, { target: st.target || "" });
    this.renderRow(p);
  }

  // setSelf marks our own row, by id or by a predicate until the id is known.
  setSelf(id, hint = null) {
    this.selfID = id || "";
    this.selfHint = hint;
    this.render();
  }

  isSelf(p) {
    if (!p) return false;
    if (this.selfID) return p.id === this.selfID;
    return !!(this.selfHint && this.selfHint(p));
  }

  clear() {
    this.people.clear();
    this.selfID = "";
    this.selfHint = null;
    this.render();
  }

  render() {
    for (const [id, li] of this.rows) {
      if (!this.people.has(id)) { li.remove(); this.rows.delete(id); }
    }
    const sorted = [...this.people.values()].sort((a, b) =>
      String(a.joined_at || "").localeCompare(String(b.joined_at || "")) || a.id.localeCompare(b.id));
    // Rows move only when the order changes: moving a row would take the keyboard focus off
    // a control in it (the moderator view's buttons) on every refresh.
    let at = this.list.firstElementChild;
    for (const p of sorted) {
      this.renderRow(p);
      const li = this.rows.get(p.id);
      if (li === at) at = at.nextElementSibling;
      else this.list.insertBefore(li, at); // keeps join order
    }
    this.count.textContent = `(${this.people.size})`;
  }

  renderRow(p) {
    let li = this.rows.get(p.id);
    if (!li) {
      li = document.createElement("li");
      li.dataset.id = p.id;
      li.innerHTML = '<span class="dot" aria-hidden="true"></span><span class="who"></span>' +
        '<span class="tags"></span><meter min="-60" max="0" low="-40" high="-10" optimum="-20"></meter>';
      this.rows.set(p.id, li);
    }
    const name = this.nameOf(p);
    const who = li.querySelector(".who");
    who.textContent = name;
    if (this.isSelf(p)) {
      const me = document.createElement("span");
      me.className = "me";
      me.textContent = " (you)";
      who.appendChild(me);
    }
    if (p.talking) {
      const t = document.createElement("span");
      t.className = "visually-hidden";
      t.textContent = ", talking";
      who.appendChild(t);
    }
    const tags = [kinds[p.kind] || p.kind, p.codec];
    if (p.muted) tags.push("muted");
    if (p.deaf) tags.push("deaf");
    if (p.role && p.role !== "normal") tags.push(p.role);
    li.querySelector(".tags").textContent = tags.filter(Boolean).join(" · ");
    const meter = li.querySelector("meter");
    meter.value = Math.max(levelFloor, Math.min(0, Number(p.level_dbov ?? -127)));
    meter.setAttribute("aria-label", `${name} level`);
    li.classList.toggle("talking", !!p.talking);
    li.classList.toggle("self", this.isSelf(p));
    if (this.decorate) this.decorate(li, p);
  }
}

// label is the name a person reads: the display name, else a phone's number or address, else
// "Guest" (a browser's "from" is only its network address, which means nothing to people).
export function label(p) {
  if (!p) return "Guest";
  if (p.name) return p.name;
  if (p.kind === "sip" && p.from) return p.from.replace(/^sips?:/, "");
  return "Guest";
}
