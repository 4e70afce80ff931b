// The moderator's room picker: the rooms (GET /api/rooms, with the API token, docs/SPEC.md
// "Control API": every live room, and the declared ones even while empty) with their participant
// counts, busiest first, each a button that watches it.
// A moderator no longer needs to know a room's name to type it.
//
// roomChoices and roomsStatus are plain functions, tested by node (jstest/rooms.test.mjs);
// RoomPicker binds them to the page.

import { API } from "./api.js";

const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;

// people is "1 person" / "N people".
export function people(n) {
  return n === 1 ? "1 person" : `${n} people`;
}

// roomChoices orders GET /api/rooms's [{room, participants}] busiest first, then by name, and
// drops anything that is not a room name (the list is drawn into the page).
export function roomChoices(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((r) => r && roomPattern.test(r.room) && Number.isInteger(r.participants) && r.participants >= 0)
    .map((r) => ({ room: r.room, participants: r.participants, label: `${r.room}, ${people(r.participants)}` }))
    .sort((a, b) => b.participants - a.participants || a.room.localeCompare(b.room));
}

// roomsStatus is the line above the list: how many rooms there are, or why there is no list.
export function roomsStatus(choices, err = null, token = false) {
  if (err) {
    switch (err.status) {
      case 401:
        return token
          ? "The bridge refused this API token: correct it to list the rooms."
          : "Enter the API token to list the rooms.";
      case 0:
        return "The rooms are unavailable: the bridge cannot be reached.";
      case 429:
        return "Too many requests: wait a moment, then refresh the rooms.";
      default:
        return `The rooms are unavailable: ${err.message}`;
    }
  }
  if (!choices.length) return "No room now: a room exists while someone is in it (or once declared).";
  const live = choices.filter((c) => c.participants > 0).length;
  return `${choices.length === 1 ? "1 room" : `${choices.length} rooms`}, ${live} with people in it.`;
}

// RoomPicker draws the rooms into el.list (a <ul>) with el.status, reloads on el.refresh,
// and calls pick(room) when a room's button is pressed. token() gives the API token typed.
export class RoomPicker {
  constructor(el, { token, pick }) {
    this.el = el;
    this.token = token;
    this.pick = pick;
    this.loading = null;
    el.refresh.addEventListener("click", () => this.load());
    el.list.addEventListener("click", (ev) => {
      const b = ev.target.closest("button[data-room]");
      if (b) this.pick(b.dataset.room);
    });
  }

  // load asks the bridge for its rooms and draws them; it returns the choices drawn.
  async load() {
    const token = this.token();
    const el = this.el;
    el.status.dataset.state = "loading";
    let choices = [];
    let err = null;
    try {
      choices = roomChoices(await new API({ token }).request("GET", "/api/rooms"));
    } catch (e) {
      err = e;
    }
    el.list.replaceChildren(...choices.map((c) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.setAttribute("type", "button");
      b.dataset.room = c.room;
      b.setAttribute("aria-label", `Moderate ${c.label}`);
      const name = document.createElement("span");
      name.className = "room";
      name.textContent = c.room;
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = people(c.participants);
      b.replaceChildren(name, " ", count);
      li.appendChild(b);
      return li;
    }));
    el.status.textContent = roomsStatus(choices, err, !!token);
    el.status.dataset.state = err ? "failed" : "loaded";
    return choices;
  }
}
