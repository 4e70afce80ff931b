package load

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"confd/bench"
	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
	"confd/testkit/cputime"
	"confd/testkit/gophone"
	"confd/testkit/pionbrowser"
)

// Config describes one load run. Every zero value is a documented default.
type Config struct {
	// Confd is the path of a confd binary (testkit.ConfdBinary). Required.
	Confd string
	// Participants is N, the room's size: the talkers plus the listeners. Zero means 10.
	Participants int
	// Talkers are the K talkers, who call over SIP. Nil means bench.DefaultTalkers (440 Hz and
	// 1000 Hz on Opus, 700 Hz on PCMU).
	Talkers []bench.Talker
	// Listeners is what the N − K listeners are: "mix" (SIP, Opus and PCMU in turn), "opus",
	// "pcmu" (SIP, one codec), or "webrtc" (WHEP listeners: pion peer connections, DTLS-SRTP,
	// Opus). Empty means "mix".
	Listeners string
	// Sampled is how many listeners decode what they hear and find onsets; the others count
	// packets. Zero means 8 (or every listener when there are fewer).
	Sampled int
	// Settle is how long the run waits after the last call is up before the measured window.
	// Zero means 3 s.
	Settle time.Duration
	// Window is the steady-state window over which CPU, loss and latency are measured. Zero
	// means 30 s.
	Window time.Duration
	// DaemonCPU and GeneratorCPU are the CPUs confd and this process are pinned to. Zero values
	// mean CPU 0 for confd and CPU 1 for the generator. NoPin leaves both unpinned.
	DaemonCPU, GeneratorCPU int
	NoPin                   bool
	// DaemonNice is confd's scheduling niceness (setpriority(2)); zero leaves the default.
	// On a shared machine a negative value approximates a core of confd's own.
	DaemonNice int
	// Realtime runs confd (DaemonOptions.Realtime) and this process under SCHED_FIFO, so that
	// on a shared machine neither waits for its CPU behind other processes: the generator's
	// packets leave on time and confd runs when they arrive.
	Realtime bool
	// RTP is confd's -rtp range. Empty means 20000-29999 (below the kernel's ephemeral ports,
	// where the generator's sockets are).
	RTP string
	// Room is the room's name. Empty means "load".
	Room string
	// DTXListeners makes silent Opus listeners send DTX (bench.DTXRecording: a TOC byte every
	// 400 ms) and lets the Opus talkers' encoders use DTX between bursts. By default every
	// participant sends a packet every 20 ms as a phone with an open microphone does (issue 9's
	// load): listeners near-silence (-70 dBFS noise) encoded without DTX and without RFC 6464
	// levels, talkers without DTX.
	DTXListeners bool
	// KeepAudio keeps the sampled listeners' decoded audio of the window, for tone checks.
	KeepAudio bool
	// DuringWindow, when set, is started on its own goroutine as the window begins, with confd's
	// process id (to profile confd, say); the run waits for it to return.
	DuringWindow func(pid int)
	// Metrics, when set, receives confd's /metrics at the end of the window.
	Metrics func(text string)
	// Log receives progress. Nil means slog.Default().
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	c.Participants = cmp.Or(c.Participants, 10)
	if c.Talkers == nil {
		c.Talkers = bench.DefaultTalkers
	}
	c.Listeners = cmp.Or(c.Listeners, "mix")
	c.Sampled = cmp.Or(c.Sampled, 8)
	c.Sampled = min(c.Sampled, c.Participants-len(c.Talkers))
	c.Settle = cmp.Or(c.Settle, 3*time.Second)
	c.Window = cmp.Or(c.Window, 30*time.Second)
	if c.GeneratorCPU == 0 && c.DaemonCPU == 0 {
		c.GeneratorCPU = 1
	}
	c.RTP = cmp.Or(c.RTP, "20000-29999")
	c.Room = cmp.Or(c.Room, "load")
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Result is what a run measured over its window.
type Result struct {
	// N is the room's size, Talkers K, Listeners the listeners' kind (Config.Listeners).
	N, Talkers int
	Listeners  string
	// Window is the measured window's wall time; Setup how long placing every call took.
	Window, Setup time.Duration
	// CPU is confd's CPU time (user + system, every thread) in the window; GeneratorCPU this
	// process's.
	CPU, GeneratorCPU time.Duration
	// Ticks is how many packets the leg that got the most was sent in the window: the ticks
	// confd's room ran (a G.711 listener gets a packet every tick). Fewer than the window's
	// 20 ms frames means confd fell behind and skipped ticks.
	Ticks uint64
	// Expected and Received count RTP packets over every leg in the window (expected from
	// sequence numbers); Silent counts legs that received nothing in it.
	Expected, Received uint64
	Silent             int
	// Extra counts packets received beyond what the sequence numbers account for (duplicates,
	// or a stream whose numbers went back); Reordered packets not numbered above the highest
	// before them; WrongPT packets of a payload type the call did not negotiate.
	Extra, Reordered, WrongPT uint64
	// Foreign counts datagrams that reached a leg's socket from an address other than its
	// call's confd media address (left out of every other count): another process's stream to
	// a port this run reuses.
	Foreign uint64
	// ListenerRateMin and ListenerRateMedian are the packets per second the listeners received
	// over the window: the least served one and the median (50 when every tick reaches them).
	ListenerRateMin, ListenerRateMedian float64
	// Latencies are the added latencies of every onset heard by a sampled listener, sorted.
	Latencies []time.Duration
	// Onsets counts the talkers' onsets times the sampled listeners that should hear them;
	// Missed those not heard.
	Onsets, Missed int
	// PerListener describes each sampled listener's share of the onsets.
	PerListener []ListenerResult
	// ToneLevels is, per sampled listener, each talker tone's level (dBFS) in what it heard
	// (only with Config.KeepAudio).
	ToneLevels [][]float64
	// GeneratorLate counts send phases the generator ran more than 10 ms late; SendLag98 is
	// the 98th percentile of how late its send phases started in the window (what confd's
	// jitter buffers see as network jitter).
	GeneratorLate int
	SendLag98     time.Duration
	// LoadAverage is /proc/loadavg's first three fields at the window's end.
	LoadAverage string
	// Stages splits the onset latencies per talker (issue 9 item 4).
	Stages []StageResult
}

// StageResult splits one talker's onset latencies, as the sampled listeners heard them, into
// what happened to the packets and what happened to the audio inside them:
//
//   - Packet: from the talker's packet carrying the onset handed to the kernel to the kernel's
//     arrival time of the listener's packet carrying it. On loopback this is confd's wait for
//     its tick (the jitter buffer's delay, in whole frames, plus the wait for the next tick)
//     and the tick's own work before that listener's send.
//   - Within: the onset's later position in the listener's decoded packet than in the talker's:
//     the re-encoder's look-ahead (Opus 6.5 ms), the resamplers of a G.711 path, the mixer's
//     fade-in of a new talker, and the detection threshold met later on a ramp.
type StageResult struct {
	Talker         string
	Packet, Within []time.Duration
}

// Median returns the medians of the two parts.
func (s StageResult) Median() (packet, within time.Duration) {
	return bench.LatencyResult{Latencies: s.Packet}.Quantile(0.5), bench.LatencyResult{Latencies: s.Within}.Quantile(0.5)
}

// ListenerResult is what one sampled listener heard in the window.
type ListenerResult struct {
	// Index is the participant's index (talkers first); Codec what it receives.
	Index int
	Codec string
	// Heard counts the onsets found in its audio, Matched those paired with a talker's onset,
	// Median the median of their latencies.
	Heard, Matched int
	Median         time.Duration
}

// CPUShare returns confd's CPU use as a share of one core (1 = a whole core).
func (r Result) CPUShare() float64 { return r.CPU.Seconds() / r.Window.Seconds() }

// Frames returns how many 20 ms frames the window held: the ticks confd should have run.
func (r Result) Frames() float64 { return r.Window.Seconds() / codec.FrameDuration.Seconds() }

// MicrosPerParticipantTick returns confd's CPU time per participant per 20 ms frame of the
// window, in µs. It is the cost of a tick only while confd keeps up (Ticks ≈ Frames).
func (r Result) MicrosPerParticipantTick() float64 {
	return float64(r.CPU.Microseconds()) / r.Frames() / float64(r.N)
}

// LossPercent returns the share of expected packets that did not arrive, in percent.
func (r Result) LossPercent() float64 {
	if r.Expected == 0 {
		return 0
	}
	lost := int64(r.Expected) - int64(r.Received)
	return 100 * float64(max(lost, 0)) / float64(r.Expected)
}

// Latency returns the q-quantile of the added latencies (nearest rank).
func (r Result) Latency(q float64) time.Duration {
	return bench.LatencyResult{Latencies: r.Latencies}.Quantile(q)
}

// String is the run's one-line summary.
func (r Result) String() string {
	return fmt.Sprintf("N=%d (%s): confd %.1f%% of a core, %.2f µs/participant/tick, %d ticks in %.0f frames; loss %.3f%% (%d/%d, %d silent legs); "+
		"listeners get %.1f packets/s (min %.1f); %d reordered, %d extra, %d wrong PT, %d from elsewhere; "+
		"latency median %.1f ms p99 %.1f ms over %d onsets (%d missed); setup %v; generator %.0f%% of a core, late ticks %d, send lag p98 %.1f ms; load average %s",
		r.N, r.Listeners, 100*r.CPUShare(), r.MicrosPerParticipantTick(), r.Ticks, r.Frames(), r.LossPercent(), r.Expected-min(r.Received, r.Expected),
		r.Expected, r.Silent, r.ListenerRateMedian, r.ListenerRateMin, r.Reordered, r.Extra, r.WrongPT, r.Foreign, ms(r.Latency(0.5)), ms(r.Latency(0.99)), len(r.Latencies), r.Missed, r.Setup.Round(time.Millisecond), 100*r.GeneratorCPU.Seconds()/r.Window.Seconds(), r.GeneratorLate, ms(r.SendLag98), r.LoadAverage)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// leg is one participant as the generator sees it.
type leg struct {
	index  int
	talker *talkerRecording // nil for a listener
	client *bench.Client    // what it sends (SIP legs)
	frame  int              // the recording frame the client sends next (talkers)
	conn   *net.UDPConn
	dest   netip.AddrPort
	call   *gophone.Dialog
	rtc    *pionbrowser.Browser
	codec  codec.Codec
	recv   receiver
}

// generator is one run's state.
type generator struct {
	cfg    Config
	daemon *Daemon
	ua     *gophone.UA

	mu      sync.Mutex
	pending []*leg // legs whose calls are up, waiting for the start of a send cycle
	onsets  []talkerOnset
	late    int
	lags    []time.Duration // how late each send tick started
}

// Run starts confd, places the calls, measures a window of steady state, hangs up and stops
// confd.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Confd == "" {
		return Result{}, errors.New("load: no confd binary")
	}
	if cfg.Participants <= len(cfg.Talkers) {
		return Result{}, fmt.Errorf("load: %d participants cannot hold %d talkers and a listener", cfg.Participants, len(cfg.Talkers))
	}
	if !cfg.NoPin {
		restore, err := PinProcess(cfg.GeneratorCPU)
		if err != nil {
			return Result{}, err
		}
		defer restore()
	}
	if cfg.Realtime {
		restore, err := RealtimeProcess(5)
		if err != nil {
			return Result{}, err
		}
		defer restore()
	}
	daemonCPU := cfg.DaemonCPU
	if cfg.NoPin {
		daemonCPU = -1
	}
	d, err := StartDaemon(cfg.Confd, DaemonOptions{CPU: daemonCPU, Nice: cfg.DaemonNice, Realtime: cfg.Realtime, RTP: cfg.RTP})
	if err != nil {
		return Result{}, err
	}
	defer d.Stop()
	cfg.Log.Info("confd ready", "pid", d.PID(), "sip", d.SIP, "http", d.HTTP)
	g := &generator{cfg: cfg, daemon: d}
	res, err := g.run(ctx)
	cfg.Log.Info("run over", "err", err)
	if err != nil && d.Alive() {
		return res, err
	}
	if !d.Alive() {
		return res, fmt.Errorf("load: confd exited during the run (%v):\n%s", err, tail(d.Log(), 3000))
	}
	return res, nil
}

func (g *generator) run(ctx context.Context) (Result, error) {
	cfg := g.cfg
	res := Result{N: cfg.Participants, Talkers: len(cfg.Talkers), Listeners: cfg.Listeners}
	talkers := make([]*talkerRecording, len(cfg.Talkers))
	for k, t := range cfg.Talkers {
		t.Format.NoDTX = t.Format.NoDTX || !cfg.DTXListeners
		tr, err := newTalkerRecording(k, t)
		if err != nil {
			return res, err
		}
		talkers[k] = tr
	}
	listenerRecs := map[codec.Codec]*bench.Recording{}
	for i, c := range []codec.Codec{codec.Opus, codec.PCMU, codec.PCMA} {
		if c == codec.Opus && cfg.DTXListeners {
			listenerRecs[c] = bench.DTXRecording()
			continue
		}
		rec, err := bench.Record(codec.Format{Codec: c, NoDTX: true}, 5, 50, bench.NoiseCapture(-70, uint64(i+1)))
		if err != nil {
			return res, err
		}
		listenerRecs[c] = rec
	}
	ua, err := gophone.NewUA(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(g.daemon.SIP)))
	if err != nil {
		return res, err
	}
	defer ua.Close()
	g.ua = ua

	sendCtx, stopSending := context.WithCancel(ctx)
	sendDone := make(chan struct{})
	go func() { defer close(sendDone); g.send(sendCtx) }()
	defer func() { stopSending(); <-sendDone }()

	legs := make([]*leg, cfg.Participants)
	for i := range legs {
		l := &leg{index: i}
		if i < len(talkers) {
			l.talker = talkers[i]
		}
		l.recv.sampled = i >= len(talkers) && i < len(talkers)+cfg.Sampled
		legs[i] = l
	}
	webrtcListeners := cfg.Listeners == "webrtc"
	defer g.hangup(legs)

	// Place the calls, a few at a time, talkers first.
	start := time.Now()
	join := func(l *leg) error {
		if l.talker == nil && webrtcListeners {
			return joinWebRTC(ctx, g.daemon.URL(""), g.cfg.Room, l)
		}
		c := g.legCodec(l.index, len(talkers))
		rec := listenerRecs[c]
		if l.talker != nil {
			rec = l.talker.rec
		}
		return g.callSIP(ctx, l, c, rec)
	}
	if err := forEach(legs[:len(talkers)], 16, join); err != nil {
		return res, err
	}
	g.start(legs[:len(talkers)]...) // together, so that their bursts take turns as scheduled
	if err := forEach(legs[len(talkers):], 16, join); err != nil {
		return res, err
	}
	res.Setup = time.Since(start)
	cfg.Log.Info("calls up", "n", len(legs), "took", res.Setup)
	// A SIP caller joins at its ACK and a WebRTC one once DTLS is up, both after the answer the
	// join above waited for: the room fills a moment later.
	if n, err := g.awaitParticipants(ctx, len(legs)); err != nil || n != len(legs) {
		return res, fmt.Errorf("load: the room has %d participants, want %d (%v)", n, len(legs), err)
	}

	// Steady state.
	if err := sleep(ctx, cfg.Settle); err != nil {
		return res, err
	}
	before := g.snapshot(legs, true)
	cpu0, self0, err := g.cpuTimes()
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	if cfg.DuringWindow != nil {
		done := make(chan struct{})
		go func() { defer close(done); cfg.DuringWindow(g.daemon.PID()) }()
		defer func() { <-done }()
	}
	g.mu.Lock()
	late0, lags0 := g.late, len(g.lags)
	g.mu.Unlock()
	if err := sleep(ctx, cfg.Window); err != nil {
		return res, err
	}
	cpu1, self1, err := g.cpuTimes()
	if err != nil {
		return res, err
	}
	res.GeneratorCPU = self1 - self0
	if cfg.Metrics != nil {
		if resp, err := http.Get(g.daemon.URL("/metrics")); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			cfg.Metrics(string(b))
		}
	}
	t1 := time.Now()
	after := g.snapshot(legs, false)
	res.Window, res.CPU, res.LoadAverage = t1.Sub(t0), cpu1-cpu0, LoadAverage()
	g.mu.Lock()
	res.GeneratorLate = g.late - late0
	lags := slices.Clone(g.lags[lags0:])
	slices.Sort(lags)
	res.SendLag98 = bench.LatencyResult{Latencies: lags}.Quantile(0.98)
	sent := slices.Clone(g.onsets)
	g.mu.Unlock()

	// Loss and order over every leg; the listeners' packet rates.
	var rates []float64
	for i := range legs {
		exp, got := after[i].highest-before[i].highest, after[i].received-before[i].received
		if before[i].highest == 0 {
			exp = got
		}
		res.Expected += exp
		res.Ticks = max(res.Ticks, exp)
		res.Received += min(got, exp)
		res.Extra += got - min(got, exp)
		res.Reordered += after[i].reordered - before[i].reordered
		res.WrongPT += after[i].wrongPT - before[i].wrongPT
		res.Foreign += after[i].foreign - before[i].foreign
		if got == 0 {
			res.Silent++
		}
		if legs[i].talker == nil {
			rates = append(rates, float64(got)/res.Window.Seconds())
		}
	}
	slices.Sort(rates)
	if len(rates) > 0 {
		res.ListenerRateMin, res.ListenerRateMedian = rates[0], rates[len(rates)/2]
	}
	// Latency: sent onsets in the window (the last 200 ms excepted, still on their way),
	// heard onsets in the window, per sampled listener.
	sent = slices.DeleteFunc(sent, func(o talkerOnset) bool {
		return o.at.Before(t0) || o.at.After(t1.Add(-burstSpacing))
	})
	slices.SortFunc(sent, func(a, b talkerOnset) int { return a.at.Compare(b.at) })
	var talkerIdx []int
	for _, l := range legs {
		if l.talker != nil {
			talkerIdx = append(talkerIdx, l.index)
			res.Stages = append(res.Stages, StageResult{Talker: l.talker.talker.Format.Codec.String()})
		}
	}
	for _, l := range legs {
		if !l.recv.sampled {
			continue
		}
		l.recv.mu.Lock()
		var heard, heardPkts []time.Time
		for i, t := range l.recv.det.onsets {
			if !t.Before(t0) && !t.After(t1) {
				heard, heardPkts = append(heard, t), append(heardPkts, l.recv.det.packets[i])
			}
		}
		pcm := l.recv.pcm
		l.recv.mu.Unlock()
		lat, matched, pairs := matchOnsets(sent, heard)
		for j, pr := range pairs {
			o := sent[pr[0]]
			k := slices.Index(talkerIdx, o.talker)
			st := &res.Stages[k]
			st.Packet = append(st.Packet, heardPkts[pr[1]].Sub(o.sent))
			st.Within = append(st.Within, lat[j]-heardPkts[pr[1]].Sub(o.sent))
		}
		res.Latencies = append(res.Latencies, lat...)
		slices.Sort(lat)
		res.PerListener = append(res.PerListener, ListenerResult{Index: l.index, Codec: l.codec.String(),
			Heard: len(heard), Matched: len(lat), Median: bench.LatencyResult{Latencies: lat}.Quantile(0.5)})
		res.Onsets += len(sent)
		for _, m := range matched {
			if !m {
				res.Missed++
			}
		}
		if cfg.KeepAudio {
			levels := make([]float64, len(cfg.Talkers))
			for k, t := range cfg.Talkers {
				levels[k] = toneLevel(pcm, t.Freq)
			}
			res.ToneLevels = append(res.ToneLevels, levels)
		}
	}
	slices.Sort(res.Latencies)
	for i := range res.Stages {
		slices.Sort(res.Stages[i].Packet)
		slices.Sort(res.Stages[i].Within)
	}
	return res, nil
}

// cpuTimes returns the CPU time the daemon and this generator have used so far: the window's
// figures are the differences of two readings.
func (g *generator) cpuTimes() (daemon, self time.Duration, err error) {
	if daemon, err = g.daemon.CPUTime(); err != nil {
		return 0, 0, err
	}
	if self, err = cputime.Process(os.Getpid()); err != nil {
		return 0, 0, err
	}
	return daemon, self, nil
}

// legCodec returns the codec of SIP leg i.
func (g *generator) legCodec(i, talkers int) codec.Codec {
	if i < talkers {
		return g.cfg.Talkers[i].Format.Codec
	}
	switch g.cfg.Listeners {
	case "opus":
		return codec.Opus
	case "pcmu":
		return codec.PCMU
	case "pcma":
		return codec.PCMA
	}
	if (i-talkers)%2 == 0 {
		return codec.Opus
	}
	return codec.PCMU
}

// callSIP opens a leg's media socket, places its call and starts its media.
func (g *generator) callSIP(ctx context.Context, l *leg, c codec.Codec, rec *bench.Recording) error {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return fmt.Errorf("load: media socket of call %d: %w", l.index, err)
	}
	l.conn, l.codec = conn, c
	pt := bench.PayloadTypeOf(c)
	rtpmap := fmt.Sprintf("%s/%d", c, c.ClockRate())
	if c == codec.Opus {
		rtpmap = "opus/48000/2" // RFC 7587 section 7
	}
	l.recv.pt = pt
	if l.recv.sampled {
		dec, err := codec.NewDecoder(c)
		if err != nil {
			return err
		}
		l.recv.dec = dec
		if err := testkit.StampArrivals(conn); err != nil {
			return err
		}
	}
	go readUDP(conn, &l.recv)
	offer := sdpOffer(l.index, conn.LocalAddr().(*net.UDPAddr).Port, pt, rtpmap, c.ClockRate())
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	call, err := g.ua.Invite(ctx, fmt.Sprintf("load%d", l.index), "", g.cfg.Room, offer)
	if err != nil {
		return err
	}
	remote, _, err := gophone.AnswerMedia(call.Answer())
	if err != nil {
		return err
	}
	l.call, l.dest = call, remote
	from := netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	l.recv.from.Store(&from)
	start := 0
	if l.talker == nil {
		start = l.index % rec.Ticks() // listeners' keep-alives spread over the recording
	}
	l.client = bench.NewClient(rec, uint32(0x10000+l.index), start)
	if l.talker == nil {
		g.start(l)
	}
	return nil
}

// sendSlots is how many send phases a 20 ms frame has: leg i sends at phase i mod sendSlots,
// talker k at phase k·sendSlots/K, so that packets reach confd spread over the frame as real
// clients' do, and the talkers' onsets meet confd's tick at different phases (the wait for the
// tick is part of the latency, and a single phase would give a single wait).
const sendSlots = 12

// start hands legs to the sender, which starts them together at its next frame.
func (g *generator) start(legs ...*leg) {
	g.mu.Lock()
	g.pending = append(g.pending, legs...)
	g.mu.Unlock()
}

// send is the clients' microphones: every 20 ms, on absolute time, each SIP leg's next packet
// at the leg's phase; a talker's onset is stamped with the time its packet is handed to the
// kernel. Its thread runs at real-time priority where allowed, so that the packets leave on
// time and confd's jitter buffers measure the loopback network, not the generator's scheduling.
func (g *generator) send(ctx context.Context) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_ = unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 10}, 0)
	defer func() {
		_ = unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL}, 0)
	}()
	var slots [sendSlots][]*leg
	talkers := 0
	buf := make([]byte, 1500)
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for slot := 0; ; slot = (slot + 1) % sendSlots {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		g.mu.Lock()
		g.lags = append(g.lags, now.Sub(next))
		if now.Sub(next) > 10*time.Millisecond {
			g.late++
		}
		if slot == 0 {
			for _, l := range g.pending {
				i := l.index % sendSlots
				if l.talker != nil {
					i = talkers * sendSlots / len(g.cfg.Talkers)
					talkers++
				}
				slots[i] = append(slots[i], l)
			}
			g.pending = g.pending[:0]
		}
		g.mu.Unlock()
		if now.Sub(next) > 100*time.Millisecond {
			next = now // a long stall: start afresh rather than burst
		}
		for _, l := range slots[slot] {
			g.sendNext(l, buf)
		}
		next = next.Add(codec.FrameDuration / sendSlots)
		timer.Reset(time.Until(next))
	}
}

// sendNext sends leg l's next packet, if it sends one in this frame.
func (g *generator) sendNext(l *leg, buf []byte) {
	p, ok := l.client.Next()
	frame := l.frame
	if l.talker != nil {
		l.frame = (l.frame + 1) % cycleFrames
	}
	if !ok {
		return
	}
	n := writeRTP(buf, p)
	var at time.Time
	if l.talker != nil && frame == l.talker.onsetFrame {
		at = time.Now()
	}
	if _, err := l.conn.WriteToUDPAddrPort(buf[:n], l.dest); err != nil || at.IsZero() {
		return
	}
	g.mu.Lock()
	g.onsets = append(g.onsets, talkerOnset{at: at.Add(l.talker.onsetOffset), sent: at, talker: l.index})
	g.mu.Unlock()
}

// legCounts is one leg's receive counters at a moment.
type legCounts struct{ received, highest, reordered, wrongPT, foreign uint64 }

// snapshot reads every leg's counters and, at the window's start, starts keeping the sampled
// listeners' audio.
func (g *generator) snapshot(legs []*leg, start bool) []legCounts {
	out := make([]legCounts, len(legs))
	for i, l := range legs {
		out[i].received, out[i].highest = l.recv.counts()
		out[i].reordered, out[i].wrongPT = l.recv.disorder()
		out[i].foreign = l.recv.foreign.Load()
		if l.recv.sampled {
			l.recv.mu.Lock()
			l.recv.keep = start && g.cfg.KeepAudio
			l.recv.mu.Unlock()
		}
	}
	return out
}

// participants asks confd's API how many participants the room has.
func (g *generator) participants() (int, error) {
	_, out, err := g.daemon.API(http.MethodGet, "/api/rooms/"+g.cfg.Room, g.daemon.Token, nil)
	if err != nil {
		return 0, err
	}
	var st struct {
		Participants []json.RawMessage `json:"participants"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, err
	}
	return len(st.Participants), nil
}

// hangup ends every call: BYE for SIP legs, close for WebRTC ones; then closes the sockets.
func (g *generator) hangup(legs []*leg) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer g.cfg.Log.Info("hung up")
	_ = forEach(legs, 32, func(l *leg) error {
		if l.call != nil {
			_ = l.call.Bye(ctx)
		}
		if l.rtc != nil {
			l.rtc.Close()
		}
		if l.conn != nil {
			l.conn.Close()
		}
		return nil
	})
}

// forEach runs f on every leg, at most limit at a time, and returns the first error (after
// which no further leg is started).
func forEach(legs []*leg, limit int, f func(*leg) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	sem := make(chan struct{}, limit)
	failed := make(chan struct{})
	for _, l := range legs {
		select {
		case <-failed:
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := f(l); err != nil {
					once.Do(func() { first = err; close(failed) })
				}
			}()
			continue
		}
		break
	}
	wg.Wait()
	return first
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// toneLevel is the level of a tone of freq in pcm (audiotest.ToneLevel), or -inf with no audio.
func toneLevel(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return math.Inf(-1)
	}
	return audiotest.ToneLevel(pcm, codec.SampleRate, freq)
}

func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// awaitParticipants asks the room's size until it is want, for at most 10 s; it returns the
// last size seen.
func (g *generator) awaitParticipants(ctx context.Context, want int) (int, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := g.participants()
		if (err == nil && n == want) || time.Now().After(deadline) {
			return n, err
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return n, err
		}
	}
}
