// The join page's "call in" box: for the room typed, the SIP URI a phone dials, the dial-in
// numbers (with the meeting number to key, for rooms whose name is digits) and a link to share
// this page with the room filled in. The bridge's SIP address and numbers come from GET
// /api/info, which needs no token and names no room (docs/SPEC.md "Changes from the original
// contract").
//
// callIn is a plain function, tested by node (jstest/callin.test.mjs); CallInBox binds it to
// the page.

const roomPattern = /^[A-Za-z0-9_-]{1,64}$/;
const meetingNumber = /^[0-9]{1,16}$/;

// callIn is what the box shows for room, from info (GET /api/info) and the page's origin:
// {sip, dialIn: [{number, keys}], dialInNote, share}; null when room is not a room name.
export function callIn(info, room, origin) {
  if (!roomPattern.test(room || "")) return null;
  const view = { sip: "", dialIn: [], dialInNote: "", share: `${origin}/?room=${encodeURIComponent(room)}` };
  const tmpl = info && info.sip && typeof info.sip.uri_template === "string" ? info.sip.uri_template : "";
  if (tmpl.includes("{room}")) view.sip = tmpl.replace("{room}", room);
  const numbers = info && Array.isArray(info.dial_in) ? info.dial_in.filter((n) => typeof n === "string" && n) : [];
  if (numbers.length) {
    if (meetingNumber.test(room)) view.dialIn = numbers.map((number) => ({ number, keys: `${room}#` }));
    else view.dialInNote = "The dial-in numbers reach only rooms whose name is digits (the meeting number).";
  }
  return view;
}

// fetchInfo reads GET /api/info; null when the bridge does not answer it.
export async function fetchInfo(base = "") {
  try {
    const resp = await fetch(`${base}/api/info`, { headers: { Accept: "application/json" } });
    return resp.ok ? await resp.json() : null;
  } catch (_) {
    return null;
  }
}

// CallInBox shows callIn for the room typed into el.room, in el.box (hidden until a room name
// is typed) with el.roomName, el.sip, el.dialIn (a <ul>), el.dialInNote and el.share (a link).
export class CallInBox {
  constructor(el, info, origin) {
    this.el = el;
    this.info = info;
    this.origin = origin;
    el.room.addEventListener("input", () => this.show());
    this.show();
  }

  show() {
    const el = this.el;
    const room = el.room.value.trim();
    const view = callIn(this.info, room, this.origin);
    el.box.hidden = !view;
    if (!view) return null;
    el.roomName.textContent = room;
    el.sip.textContent = view.sip;
    el.sipRow.hidden = !view.sip;
    el.dialIn.replaceChildren(...view.dialIn.map((d) => {
      const li = document.createElement("li");
      li.textContent = `Call ${d.number}, then key ${d.keys}`;
      return li;
    }));
    el.dialIn.hidden = !view.dialIn.length;
    el.dialInNote.textContent = view.dialInNote;
    el.dialInNote.hidden = !view.dialInNote;
    el.share.setAttribute("href", view.share);
    el.share.textContent = view.share;
    return view;
  }
}
