// drive.mjs runs one or more headless Chromium browsers (Debian's /usr/bin/chromium through
// playwright-core; it never downloads a browser) on confd's own page, the way a person would:
// type the room and name, pick the connection mode, tick "Raw audio", click Join. Each browser
// has its own fake microphone (a WAV of its own tone, made by the Go test) and its own profile.
//
//   node drive.mjs CONFIG.json
//
// CONFIG: {url, chromium?, timeoutMs?, captureSeconds?, freqs:[Hz…], browsers:[{name, room,
// mode: "whip"|"sip"|"moderate", wav, profile, record, screenshot?, screenshotJoin?,
// attempts?:[{room, pin}], denyMic?}]}
//
// Each browser prints "joined" once its page says it is connected, or "refused" with the
// page's alert text when the page shows an alert instead (a refused microphone, a locked room).
// With several attempts (room and PIN), "refused" says final:false until the last one, and a
// finally refused browser takes no further part. denyMic drops the flag that grants the microphone, so
// the page meets a refusal as a person who clicked "Block" would.
//
// A "moderate" browser joins no call: it opens the page's moderator view (#moderate) in a 390 px
// wide window, as on a phone, types the room and the API token (the environment variable
// CONFD_E2E_API_TOKEN), presses Watch room and prints "joined" once its list shows the room, or
// "refused" (final) with the view's alert. It takes no part in measure.
//
// It talks to the Go test in lines: JSON events on stdout ({"event": …}), commands on stdin:
//   measure     record captureSeconds of what each page hears (its <audio> element's remote
//               stream, through WebAudio) into its `record` WAV; print one "measured" event per
//               browser, with tone levels (Goertzel, Hann window, dBFS) and the participant list
//   screenshot  save each browser's page as PNG at its `screenshot` path
//   mute NAME   click Mute in browser NAME (aria-pressed turns true), print "muted"
//   moderate NAME ACTION [WHO]
//               in moderator NAME: ACTION mute, deaf or kick (Remove, then Yes, remove) on the
//               row whose name starts with WHO; mute-all; record (the recording toggle). Waits
//               for the outcome (the toggle flips, the row goes, the note changes) and prints
//               "moderated" with status: the row's tags (mute, deaf), the recording line
//               (record) or the note (kick, mute-all); alert: the view's alert text
//   leave       click Leave everywhere, wait for the page to go idle, close and exit 0
// End of input counts as leave. Any failure prints an "error" event with the page's alert and
// status text, and exits 1.

import { chromium } from "playwright-core";
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeout = cfg.timeoutMs || 20000;

// The flags of docs/REAL-PEERS.md: offline, no sandbox (root in a container), fake
// devices granted without a prompt, loopback ICE candidates, audio that plays without a gesture.
function flags(wav, denyMic) {
  const f = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`, "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
  ];
  if (!denyMic) f.push("--use-fake-ui-for-media-stream");
  return f;
}

// started dates every event (ms), so a slow test shows where its time went.
const started = Date.now();

function emit(obj) {
  process.stdout.write(JSON.stringify({ ...obj, ms: Date.now() - started }) + "\n");
}

const sessions = []; // {spec, context, page, logs}

async function pageText(page, selector) {
  return page.locator(selector).textContent({ timeout: 10000 }).catch(() => "");
}

async function fail(err, s) {
  const detail = { event: "error", message: String(err && err.stack || err) };
  if (s) {
    const mod = s.spec.mode === "moderate" ? "mod-" : "";
    detail.browser = s.spec.name;
    detail.alert = (await pageText(s.page, `#${mod}alert`)).trim();
    detail.status = (await pageText(s.page, `#${mod}status`)).trim();
    detail.console = s.logs.slice(-30);
  }
  emit(detail);
  await Promise.allSettled(sessions.map((x) => x.context.close()));
  process.exit(1);
}

async function open(spec) {
  const context = await chromium.launchPersistentContext(spec.profile, {
    executablePath: cfg.chromium || "/usr/bin/chromium",
    headless: true,
    args: flags(spec.wav, spec.denyMic),
    ignoreDefaultArgs: ["--mute-audio"],
    viewport: spec.mode === "moderate" ? { width: 390, height: 844 } : { width: 900, height: 900 },
    timeout: Math.max(timeout, 60000), // a cold start on a busy machine
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(timeout);
  emit({ event: "launched", browser: spec.name });
  const s = { spec, context, page, logs: [] };
  page.on("console", (m) => s.logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => s.logs.push(`pageerror: ${e.message}`));
  sessions.push(s);
  return s;
}

async function join(s) {
  const { page, spec } = s;
  if (spec.mode === "moderate") return watch(s);
  await page.goto(cfg.url);
  if (spec.screenshotJoin) await page.screenshot({ path: spec.screenshotJoin, fullPage: true });
  await page.getByLabel("Your name").fill(spec.name);
  await page.locator(`input[name=mode][value=${spec.mode || "whip"}]`).check();
  await page.getByText("More options").click();
  await page.getByLabel("Raw audio").check(); // a steady tone is not noise to remove
  // Each attempt is a room and a PIN, as a person corrects a wrong one and presses Join again.
  const attempts = spec.attempts && spec.attempts.length ? spec.attempts : [{ room: spec.room, pin: "" }];
  for (let i = 0; i < attempts.length; i++) {
    await page.getByLabel("Room name").fill(attempts[i].room);
    await page.getByLabel("Room PIN", { exact: true }).fill(attempts[i].pin || "");
    await page.getByRole("button", { name: "Join" }).click();
    const outcome = await Promise.race([
      page.waitForSelector("#status[data-state=connected]").then(() => "connected"),
      page.waitForSelector("#alert:not([hidden])").then(() => "alert"),
    ]);
    if (outcome === "connected") break;
    const final = i === attempts.length - 1;
    if (final && spec.screenshot) await page.screenshot({ path: spec.screenshot, fullPage: true });
    emit({ event: "refused", browser: spec.name, final, alert: (await pageText(page, "#alert")).trim(),
      status: (await pageText(page, "#status")).trim() });
    if (final) {
      s.refused = true;
      await s.context.close();
      return;
    }
    await page.waitForSelector("#join:not([disabled])");
  }
  // The remote stream must be live before anyone measures it.
  await page.waitForFunction(() => {
    const a = document.getElementById("remote-audio");
    return a.srcObject && a.srcObject.getAudioTracks().some((t) => t.readyState === "live");
  });
  emit({ event: "joined", browser: spec.name, status: (await pageText(page, "#status")).trim() });
}

// watch opens the moderator view on spec.room with the API token, as a moderator would: by
// the link confd prints at start (#moderate?token=TOKEN), whose token the page fills in and
// takes out of the address.
async function watch(s) {
  const { page, spec } = s;
  const token = process.env.CONFD_E2E_API_TOKEN || "";
  await page.goto(new URL(`#moderate?token=${encodeURIComponent(token)}`, cfg.url).href);
  if (new URL(page.url()).hash !== "#moderate") throw new Error(`the API token stayed in the address: ${page.url()}`);
  if ((await page.locator("#mod-token").inputValue()) !== token) throw new Error("the moderator link's token is not in the API token field");
  if (spec.screenshotJoin) await page.screenshot({ path: spec.screenshotJoin, fullPage: true });
  await page.getByLabel("Room to moderate").fill(spec.room);
  await page.getByRole("button", { name: "Watch room" }).click();
  const outcome = await Promise.race([
    page.waitForSelector("#mod-status[data-state=watching]").then(() => "watching"),
    page.waitForSelector("#mod-alert:not([hidden])").then(() => "alert"),
  ]);
  const status = (await pageText(page, "#mod-status")).trim();
  if (outcome === "alert") {
    if (spec.screenshot) await page.screenshot({ path: spec.screenshot, fullPage: true });
    emit({ event: "refused", browser: spec.name, final: true, alert: (await pageText(page, "#mod-alert")).trim(), status });
    s.refused = true;
    await s.context.close();
    return;
  }
  emit({ event: "joined", browser: spec.name, status });
}

// moderate does one moderator action in s's page and waits for its outcome (see the header).
async function moderate(s, action, who) {
  const { page } = s;
  const row = () => page.locator("#mod-people > li").filter({ has: page.locator(".who", { hasText: new RegExp(`^${who}`) }) });
  const alert = async () => ((await page.locator("#mod-alert").isVisible()) ? (await pageText(page, "#mod-alert")).trim() : "");
  let status = "";
  switch (action) {
    case "mute":
    case "deaf": {
      const sel = `#mod-people > li[data-id="${await row().getAttribute("data-id")}"] button[data-control=${action}]`;
      const was = await page.locator(sel).getAttribute("aria-pressed");
      await page.locator(sel).click();
      await page.waitForFunction(([sel, was]) => document.querySelector(sel).getAttribute("aria-pressed") !== was ||
        !document.getElementById("mod-alert").hidden, [sel, was]);
      status = (await row().locator(".tags").textContent()).trim();
      break;
    }
    case "kick": {
      await row().getByRole("button", { name: /^Remove/ }).click();
      await row().getByRole("button", { name: "Yes, remove" }).click();
      await row().waitFor({ state: "detached" });
      status = (await pageText(page, "#mod-note")).trim();
      break;
    }
    case "mute-all": {
      const before = await pageText(page, "#mod-note");
      await page.getByRole("button", { name: "Mute everyone" }).click();
      await page.waitForFunction((before) => document.getElementById("mod-note").textContent !== before ||
        !document.getElementById("mod-alert").hidden, before);
      status = (await pageText(page, "#mod-note")).trim();
      break;
    }
    case "record": {
      const btn = page.locator("#mod-record");
      const was = await btn.getAttribute("aria-pressed");
      await btn.click();
      await page.waitForFunction((was) => document.getElementById("mod-record").getAttribute("aria-pressed") !== was ||
        !document.getElementById("mod-alert").hidden, was);
      status = (await pageText(page, "#mod-record-state")).trim();
      break;
    }
    default:
      throw new Error(`moderate: unknown action ${action}`);
  }
  emit({ event: "moderated", browser: s.spec.name, status, alert: await alert() });
}

// capture records what the page's <audio> element plays, in the page, and returns 16-bit PCM.
// The remote track reaches WebAudio only while an <audio> element also plays it: the page's own
// element does.
async function capture(s, seconds) {
  return s.page.evaluate(async (seconds) => {
    const stream = document.getElementById("remote-audio").srcObject;
    const ctx = new AudioContext({ sampleRate: 48000 });
    await ctx.resume();
    const src = ctx.createMediaStreamSource(stream);
    const proc = ctx.createScriptProcessor(4096, 1, 1);
    const want = Math.round(seconds * ctx.sampleRate);
    const pcm = new Int16Array(want);
    let n = 0;
    await new Promise((resolve) => {
      proc.onaudioprocess = (e) => {
        const d = e.inputBuffer.getChannelData(0);
        for (let i = 0; i < d.length && n < want; i++, n++) {
          pcm[n] = Math.max(-32768, Math.min(32767, Math.round(d[i] * 32767)));
        }
        if (n >= want) resolve();
      };
      src.connect(proc);
      proc.connect(ctx.destination);
    });
    src.disconnect();
    proc.disconnect();
    const rate = ctx.sampleRate;
    await ctx.close();
    return { rate, pcm: Array.from(pcm) };
  }, seconds);
}

// toneLevel is the amplitude of freq in pcm as dBFS (Goertzel over a Hann window; a full-scale
// sine reads 0 dB), the same measure as confd/testkit/audiotest.ToneLevel.
function toneLevel(pcm, rate, freq) {
  const n = pcm.length;
  const w = 2 * Math.PI * freq / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0, s2 = 0, wsum = 0;
  for (let i = 0; i < n; i++) {
    const win = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / (n - 1));
    wsum += win;
    const s0 = (pcm[i] / 32768) * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const amp = 2 * Math.sqrt(Math.max(power, 0)) / wsum;
  return 20 * Math.log10(amp + 1e-12);
}

function wav(path, rate, pcm) {
  const data = Buffer.alloc(pcm.length * 2);
  pcm.forEach((v, i) => data.writeInt16LE(v, i * 2));
  const h = Buffer.alloc(44);
  h.write("RIFF", 0); h.writeUInt32LE(36 + data.length, 4); h.write("WAVE", 8);
  h.write("fmt ", 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write("data", 36); h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

async function measure(s) {
  if (s.spec.mode === "moderate") return; // a moderator is in no call
  const { rate, pcm } = await capture(s, cfg.captureSeconds || 1);
  wav(s.spec.record, rate, pcm);
  const levels = {};
  for (const f of cfg.freqs || []) levels[f] = Math.round(toneLevel(pcm, rate, f) * 10) / 10;
  const people = await s.page.locator("#people li .who").allTextContents();
  emit({ event: "measured", browser: s.spec.name, rate, wav: s.spec.record, levels, people: people.map((t) => t.trim()) });
}

async function leave(s) {
  if (s.spec.mode === "moderate") {
    await s.page.getByRole("button", { name: "Stop watching" }).click();
    await s.page.waitForSelector("#mod-status[data-state=idle]", { state: "attached" });
    await s.context.close();
    return;
  }
  await s.page.getByRole("button", { name: "Leave" }).click();
  await s.page.waitForSelector("#status[data-state=idle]", { state: "attached" });
  await s.context.close();
}

let current = null; // the session an error belongs to, for its report
async function each(fn) {
  await Promise.all(sessions.filter((s) => !s.refused).map(async (s) => {
    try {
      await fn(s);
    } catch (err) {
      current = s;
      throw err;
    }
  }));
}

async function main() {
  // Two Chromium start-ups at a time: more at once on a 2-core machine only time out.
  const queue = [...cfg.browsers];
  await Promise.all([0, 1].map(async () => {
    while (queue.length) await open(queue.shift());
  }));
  await each(join);
  emit({ event: "ready" });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [cmd, arg, ...rest] = line.trim().split(/\s+/);
    switch (cmd) {
      case "measure":
        await each(measure);
        emit({ event: "measured-all" });
        break;
      case "screenshot":
        await each(async (s) => {
          if (s.spec.screenshot) await s.page.screenshot({ path: s.spec.screenshot, fullPage: true });
        });
        emit({ event: "screenshot" });
        break;
      case "mute": {
        const s = sessions.find((x) => x.spec.name === arg && !x.refused);
        if (!s) throw new Error(`mute: no joined browser ${arg}`);
        current = s;
        await s.page.getByRole("button", { name: "Mute" }).click();
        await s.page.waitForSelector("#mute[aria-pressed=true]");
        emit({ event: "muted", browser: arg, status: (await pageText(s.page, "#status")).trim() });
        break;
      }
      case "moderate": {
        const s = sessions.find((x) => x.spec.name === arg && x.spec.mode === "moderate" && !x.refused);
        if (!s) throw new Error(`moderate: no moderator ${arg}`);
        current = s;
        await moderate(s, rest[0], rest[1] || "");
        break;
      }
      case "leave":
        lines.close();
        break;
      case "":
        break;
      default:
        emit({ event: "error", message: `unknown command ${JSON.stringify(line)}` });
    }
  }
  await each(leave);
  emit({ event: "left" });
  process.exit(0);
}

main().catch((err) => fail(err, current));
