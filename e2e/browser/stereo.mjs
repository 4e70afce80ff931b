// stereo.mjs opens one headless Chromium (Debian's /usr/bin/chromium through playwright-core; it
// never downloads a browser) on confd's page origin and, from the page's own script context,
// makes two calls into a room with nothing but the browser's WebRTC and fetch:
//
//   speaker   WHIP, sendonly: the fake microphone (a WAV of a tone, made by the Go test)
//   listener  WHEP, recvonly: its offer's Opus fmtp says stereo=1 (RFC 7587 section 6.1), added
//             by confd's page's own stereoOffer (static/whip.js); the received stream goes
//             through Web Audio (MediaStreamSource → ChannelSplitter → one AnalyserNode per
//             channel)
//
//   node stereo.mjs CONFIG.json      CONFIG: {url, chromium?, wav, profile, room, timeoutMs?}
//
// Events on stdout (JSON lines): "joined" (with the WHEP offer's and answer's Opus fmtp lines
// and the remote track's channel count as Web Audio sees it); after the command "measure" on
// stdin, "measured" with the RMS level of each channel in dBFS over 1.5 s, taken after 0.5 s
// (so a pan change made just before is heard throughout). "leave" or end of input closes the
// browser. Any failure prints "error" and exits 1.

import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeout = cfg.timeoutMs || 30000;
const started = Date.now();
const emit = (o) => process.stdout.write(JSON.stringify({ ...o, ms: Date.now() - started }) + "\n");

let context;
async function fail(err) {
  emit({ event: "error", message: String((err && err.stack) || err) });
  if (context) await context.close().catch(() => {});
  process.exit(1);
}

// inPage runs in the page: the two calls and the analysers. It returns what "joined" reports.
async function inPage(room) {
  const gathered = (pc) => new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && resolve());
  });
  const post = async (path, sdp) => {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/sdp" }, body: sdp });
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.text();
  };
  const opusFmtp = (sdp) => {
    const pt = (sdp.match(/a=rtpmap:(\d+) opus\/48000\/2/i) || [])[1];
    return (sdp.match(new RegExp(`a=fmtp:${pt} [^\\r\\n]*`)) || [""])[0];
  };

  const mic = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const speaker = new RTCPeerConnection();
  speaker.addTransceiver(mic.getAudioTracks()[0], { direction: "sendonly" });
  await speaker.setLocalDescription(await speaker.createOffer());
  await gathered(speaker);
  const spAnswer = await post(`/whip/${room}?name=speaker`, speaker.localDescription.sdp);
  await speaker.setRemoteDescription({ type: "answer", sdp: spAnswer });

  const listener = new RTCPeerConnection();
  listener.addTransceiver("audio", { direction: "recvonly" });
  const track = new Promise((resolve) => listener.addEventListener("track", (e) => resolve(e.track)));
  // The page's own munging (static/whip.js), on this Chromium's real offer.
  const { stereoOffer } = await import("/static/whip.js");
  await listener.setLocalDescription(stereoOffer(await listener.createOffer()));
  await gathered(listener);
  const answer = await post(`/whep/${room}?name=listener`, listener.localDescription.sdp);
  await listener.setRemoteDescription({ type: "answer", sdp: answer });
  const t = await track;
  const stream = new MediaStream([t]);
  // Chromium feeds a remote track to Web Audio only while a media element plays it too.
  const el = new Audio();
  el.srcObject = stream;
  el.muted = true;
  await el.play();
  const ac = new AudioContext({ sampleRate: 48000 });
  await ac.resume();
  const src = ac.createMediaStreamSource(stream);
  const split = ac.createChannelSplitter(2);
  src.connect(split);
  const analysers = [0, 1].map((i) => {
    const a = ac.createAnalyser();
    a.fftSize = 2048;
    split.connect(a, i);
    return a;
  });
  window.measure = async () => {
    await new Promise((r) => setTimeout(r, 500));
    const sums = [0, 0];
    let n = 0;
    const buf = new Float32Array(2048);
    const end = performance.now() + 1500;
    while (performance.now() < end) {
      analysers.forEach((a, i) => {
        a.getFloatTimeDomainData(buf);
        for (const x of buf) sums[i] += x * x;
      });
      n += buf.length;
      await new Promise((r) => setTimeout(r, 40));
    }
    const db = (s) => (s > 0 ? 10 * Math.log10(s / n) : -200);
    return { left: db(sums[0]), right: db(sums[1]) };
  };
  await new Promise((r) => setTimeout(r, 300));
  return { offerFmtp: opusFmtp(listener.localDescription.sdp), answerFmtp: opusFmtp(answer),
    channelCount: src.channelCount, connection: listener.connectionState };
}

try {
  context = await chromium.launchPersistentContext(cfg.profile, {
    executablePath: cfg.chromium || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-audio-capture=${cfg.wav}`, "--autoplay-policy=no-user-gesture-required",
      "--allow-loopback-in-peer-connection",
    ],
    ignoreDefaultArgs: ["--mute-audio"],
    timeout: Math.max(timeout, 60000),
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(timeout);
  const logs = [];
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  await page.goto(cfg.url);
  const info = await page.evaluate(inPage, cfg.room).catch((e) => fail(new Error(`${e}\n${logs.join("\n")}`)));
  emit({ event: "joined", ...info });
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = line.trim();
    if (cmd === "measure") {
      emit({ event: "measured", ...(await page.evaluate(() => window.measure())) });
    } else if (cmd === "leave") {
      break;
    }
  }
  await context.close();
  emit({ event: "left" });
  process.exit(0);
} catch (err) {
  await fail(err);
}
