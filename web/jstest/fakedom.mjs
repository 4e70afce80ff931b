// A small stand-in for the browser's DOM, enough for the page's modules to draw into under
// node's test runner: elements parsed from the page's own HTML, attributes, dataset, classList,
// text, form values, simple selectors (tag, .class, #id, [attr], [attr=value], descendants),
// events with capture and bubbling, and the focus. It is not a browser: the real page is
// driven in Chromium by the end-to-end tests.

const voidTags = new Set(["input", "br", "meta", "link", "img", "hr"]);

class Text {
  constructor(text) {
    this.nodeType = 3;
    this.data = text;
    this.parentNode = null;
  }
  get textContent() { return this.data; }
}

class Element {
  constructor(doc, tag) {
    this.nodeType = 1;
    this.ownerDocument = doc;
    this.tagName = tag.toUpperCase();
    this.attrs = new Map();
    this.childNodes = [];
    this.parentNode = null;
    this.listeners = [];
    this.props = {};
    const el = this;
    this.dataset = new Proxy({}, {
      get: (_, k) => el.getAttribute(dataName(k)) ?? undefined,
      set: (_, k, v) => { el.setAttribute(dataName(k), String(v)); return true; },
      deleteProperty: (_, k) => { el.removeAttribute(dataName(k)); return true; },
      has: (_, k) => el.hasAttribute(dataName(k)),
    });
    this.classList = {
      contains: (c) => el.classes().includes(c),
      add: (c) => { if (!el.classList.contains(c)) el.setAttribute("class", [...el.classes(), c].join(" ")); },
      remove: (c) => el.setAttribute("class", el.classes().filter((x) => x !== c).join(" ")),
      toggle: (c, force = !el.classList.contains(c)) => { (force ? el.classList.add : el.classList.remove)(c); return force; },
    };
  }

  classes() { return (this.getAttribute("class") || "").split(/\s+/).filter(Boolean); }
  getAttribute(n) { return this.attrs.has(n) ? this.attrs.get(n) : null; }
  setAttribute(n, v) { this.attrs.set(n, String(v)); }
  removeAttribute(n) { this.attrs.delete(n); }
  hasAttribute(n) { return this.attrs.has(n); }
  toggleAttribute(n, force = !this.hasAttribute(n)) {
    if (force) this.setAttribute(n, "");
    else this.removeAttribute(n);
    return force;
  }

  get id() { return this.getAttribute("id") || ""; }
  get className() { return this.getAttribute("class") || ""; }
  set className(v) { this.setAttribute("class", v); }
  get title() { return this.getAttribute("title") || ""; }
  set title(v) { this.setAttribute("title", v); }
  get hidden() { return this.hasAttribute("hidden"); }
  set hidden(v) { this.toggleAttribute("hidden", !!v); }
  get disabled() { return this.hasAttribute("disabled"); }
  set disabled(v) { this.toggleAttribute("disabled", !!v); }
  get open() { return this.hasAttribute("open"); }
  set open(v) { this.toggleAttribute("open", !!v); }
  get selected() { return this.hasAttribute("selected"); }
  set selected(v) { this.toggleAttribute("selected", !!v); }

  get value() {
    switch (this.tagName) {
      case "SELECT": {
        const opts = this.querySelectorAll("option");
        const o = opts.find((x) => x.selected) || opts[0];
        return o ? o.value : "";
      }
      case "OPTION": return this.getAttribute("value") ?? this.textContent;
      case "OUTPUT": return this.textContent;
      default: return this.props.value ?? this.getAttribute("value") ?? "";
    }
  }
  set value(v) {
    switch (this.tagName) {
      case "SELECT":
        for (const o of this.querySelectorAll("option")) o.selected = o.value === String(v);
        break;
      case "OUTPUT": this.textContent = v; break;
      default: this.props.value = String(v);
    }
  }

  get children() { return this.childNodes.filter((n) => n.nodeType === 1); }
  get firstElementChild() { return this.children[0] || null; }
  get nextElementSibling() {
    if (!this.parentNode) return null;
    const sibs = this.parentNode.children;
    return sibs[sibs.indexOf(this) + 1] || null;
  }
  get textContent() { return this.childNodes.map((n) => n.textContent).join(""); }
  set textContent(v) { this.replaceChildren(new Text(String(v))); }
  set innerHTML(html) { this.replaceChildren(...parse(this.ownerDocument, html)); }

  appendChild(n) { return this.insertBefore(n, null); }
  insertBefore(n, ref) {
    if (n.parentNode) n.parentNode.removeChild(n);
    const at = ref ? this.childNodes.indexOf(ref) : -1;
    if (at < 0) this.childNodes.push(n);
    else this.childNodes.splice(at, 0, n);
    n.parentNode = this;
    return n;
  }
  removeChild(n) {
    this.childNodes = this.childNodes.filter((x) => x !== n);
    n.parentNode = null;
    const doc = this.ownerDocument;
    if (doc.activeElement && (doc.activeElement === n || n.contains?.(doc.activeElement))) doc.activeElement = doc.body;
    return n;
  }
  remove() { if (this.parentNode) this.parentNode.removeChild(this); }
  replaceChildren(...nodes) {
    for (const n of [...this.childNodes]) this.removeChild(n);
    for (const n of nodes) this.appendChild(typeof n === "string" ? new Text(n) : n);
  }
  contains(n) {
    for (let x = n; x; x = x.parentNode) if (x === this) return true;
    return false;
  }

  descendants() {
    const out = [];
    const walk = (el) => { for (const c of el.children) { out.push(c); walk(c); } };
    walk(this);
    return out;
  }
  querySelectorAll(sel) {
    return this.descendants().filter((el) => sel.split(",").some((s) => el.matchesChain(s.trim().split(/\s+/), this)));
  }
  querySelector(sel) { return this.querySelectorAll(sel)[0] || null; }
  matches(sel) { return sel.split(",").some((s) => this.matchesChain(s.trim().split(/\s+/), null)); }
  closest(sel) {
    for (let x = this; x && x.nodeType === 1; x = x.parentNode) if (x.matches(sel)) return x;
    return null;
  }
  // matchesChain matches "a b c" right to left: this is c, some ancestor below scope is b, …
  matchesChain(parts, scope) {
    if (!matchCompound(this, parts[parts.length - 1])) return false;
    const rest = parts.slice(0, -1);
    if (!rest.length) return true;
    for (let x = this.parentNode; x && x !== scope && x.nodeType === 1; x = x.parentNode) {
      if (x.matchesChain(rest, scope)) return true;
    }
    return false;
  }

  focus() { this.ownerDocument.activeElement = this; }
  addEventListener(type, fn, capture = false) {
    this.listeners.push({ type, fn, capture: !!(capture && (capture === true || capture.capture)) });
  }
  dispatchEvent(ev) {
    ev.target = this;
    const path = [];
    for (let x = this; x && x.listeners; x = x.parentNode) path.push(x);
    for (const x of [...path].reverse()) x.fire(ev, true);
    for (const x of path) {
      if (x !== this && !ev.bubbles) break;
      x.fire(ev, false);
    }
    return !ev.defaultPrevented;
  }
  fire(ev, capture) {
    for (const l of this.listeners) if (l.type === ev.type && l.capture === capture) l.fn(ev);
  }
  click() { this.dispatchEvent(new Event("click", { bubbles: true })); }
}

export class Event {
  constructor(type, { bubbles = false, key = "" } = {}) {
    this.type = type;
    this.bubbles = bubbles;
    this.key = key;
    this.defaultPrevented = false;
  }
  preventDefault() { this.defaultPrevented = true; }
}

function dataName(k) {
  return "data-" + String(k).replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

function matchCompound(el, sel) {
  const re = /^([a-zA-Z0-9]*|\*)((?:[.#][\w-]+|\[[^\]]+\])*)$/;
  const m = re.exec(sel);
  if (!m) throw new Error(`fakedom: selector ${sel} is not supported`);
  if (m[1] && m[1] !== "*" && el.tagName !== m[1].toUpperCase()) return false;
  for (const part of m[2].match(/[.#][\w-]+|\[[^\]]+\]/g) || []) {
    if (part[0] === ".") { if (!el.classList.contains(part.slice(1))) return false; continue; }
    if (part[0] === "#") { if (el.id !== part.slice(1)) return false; continue; }
    const [, name, value] = /^\[([\w-]+)(?:=["']?([^"'\]]*)["']?)?\]$/.exec(part);
    if (!el.hasAttribute(name)) return false;
    if (value !== undefined && el.getAttribute(name) !== value) return false;
  }
  return true;
}

// parse turns the page's HTML (well formed, as ours is) into nodes.
function parse(doc, html) {
  const root = new Element(doc, "template");
  let cur = root;
  const re = /<!--[\s\S]*?-->|<\/([a-zA-Z0-9]+)\s*>|<([a-zA-Z0-9]+)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*\/?>|([^<]+)/g;
  for (let m; (m = re.exec(html));) {
    if (m[1]) {
      while (cur !== root && cur.tagName !== m[1].toUpperCase()) cur = cur.parentNode;
      if (cur !== root) cur = cur.parentNode;
    } else if (m[2]) {
      const el = new Element(doc, m[2]);
      for (const a of m[3].matchAll(/([^\s=>]+)(?:="([^"]*)")?/g)) el.setAttribute(a[1], decode(a[2] ?? ""));
      cur.appendChild(el);
      if (!voidTags.has(m[2].toLowerCase())) cur = el;
    } else if (m[4]) {
      cur.appendChild(new Text(decode(m[4])));
    }
  }
  return [...root.childNodes];
}

function decode(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

// install makes a document of html the global one (with Option), and returns it.
export function install(html) {
  const doc = {
    hidden: false,
    activeElement: null,
    createElement: (tag) => new Element(doc, tag),
    getElementById: (id) => doc.body.querySelector(`#${id}`),
  };
  doc.body = new Element(doc, "body");
  doc.body.innerHTML = html;
  doc.activeElement = doc.body;
  globalThis.document = doc;
  globalThis.Option = function Option(text = "", value = text) {
    const o = new Element(doc, "option");
    o.textContent = text;
    o.setAttribute("value", value);
    return o;
  };
  return doc;
}
