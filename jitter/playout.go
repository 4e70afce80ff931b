package jitter

import (
	"time"

	"confd/codec"
)

// Playout constants; doc.go explains the choices.
const (
	// planUnits bounds the units one tick is made of: eight 2.5 ms Opus packets and a carried one.
	planUnits = 10
	// maxSteps bounds the decisions of one Advance, so that no input can make a tick loop long.
	maxSteps = 64
	// gapTolerance is how far a packet may start after the cursor and still count as continuous:
	// senders round timestamps, and a gap below one 2.5 ms Opus frame is not a silence.
	gapTolerance = codec.SampleRate / 400
	// maxExpansions is how many ticks the playout conceals while the buffer is empty before it
	// calls the stream silent (100 ms: libopus's concealment has faded out by then).
	maxExpansions = 5
	// maxConcealSamples is the longest run of lost audio concealed: longer gaps start a new
	// talkspurt instead, re-anchored at the target delay.
	maxConcealSamples = 5 * codec.FrameSamples
	// concealStep is the granularity of concealment, libopus's 2.5 ms (a multiple of G.711's
	// 8 kHz sample, 6 samples at 48 kHz).
	concealStep = codec.SampleRate / 400
	// lossFloor is the least target while loss is seen on a codec with in-band FEC: one and a
	// half frames, so that the packet after a lost one has arrived when the lost one is due.
	lossFloor = 30 * time.Millisecond
	// lossMemory is the number of packets the loss rate averages over; lossOn and lossOff are its
	// hysteresis thresholds for keeping a frame in hand, which also ends after lossQuiet without
	// any loss (a burst of late packets in a spike should not hold the delay up for long).
	lossMemory = 256
	lossOn     = 0.01
	lossOff    = 0.0025
	lossQuiet  = 4 * time.Second
	// voicedDropInterval spaces out drops of voiced frames when the delay shrinks during speech.
	voicedDropInterval = 100 * time.Millisecond
	// voicedWait is how long an excess delay waits for a silent or quiet packet to drop before
	// voiced ones are time-compressed: a pause comes within a few hundred ms of speech, and the
	// delay still shrinks within about a second when none does.
	voicedWait = 400 * time.Millisecond
	// noExcess marks tickState.excessSince unset.
	noExcess = -1 << 62
	// shrinkMargin: the delay shrinks only when it would stay above the target's peak by a
	// 1/shrinkMargin of it (at most maxShrinkMargin), since the estimate's noise grows with it;
	// a clean network keeps 0, so a packet still plays in the tick it arrives.
	shrinkMargin    = 2
	maxShrinkMargin = int64(10 * time.Millisecond)
	// peakHold is how long a higher target keeps the delay from shrinking after it fell.
	peakHold = time.Second
	// pathMoveAfter is how long packets must keep arriving too late to play before the buffer
	// believes that their path, not a spike, delays them (see pathMovedLocked): five packets of
	// 20 ms, far longer than the burst after a blackout, far shorter than the two seconds the
	// old fastest path would otherwise be waited for.
	pathMoveAfter = 100 * time.Millisecond
	// silentLevel is the RFC 6464 level at or below which a frame may be dropped as silence.
	silentLevel codec.Level = -50
	// quietLevel is the RFC 6464 level at or below which a packet without the voice flag is
	// quiet enough to drop at once to shorten the delay (a -40 dBov tone is barely heard, and its
	// drop is time-compressed anyway).
	quietLevel codec.Level = -40
)

// unitKind says how the decode stage produces a unit's samples.
type unitKind uint8

const (
	unitSilence unitKind = iota // nothing to play: zeros, and the decoder is not fed
	unitPacket                  // decode payload
	unitConceal                 // packet loss concealment
	unitFEC                     // recover the lost packet before payload from its in-band FEC
)

// unit is one piece of a tick's audio: a packet, a concealment or a silence, of samples at
// codec.SampleRate, of which skip were played in earlier ticks and take play in this one.
type unit struct {
	kind       unitKind
	id         uint64 // consecutive ids tell the decode stage when its decoder ran continuously
	dec        int    // decoder index, -1 for none
	samples    int
	skip, take int
	level      codec.Level
	levelKnown bool
	voice      bool
	unvoiced   bool   // level unknown, but the packet says it holds no speech (Opus VAD flag)
	squeeze    bool   // a packet dropped to shorten the delay: decoded, then time-compressed away
	stretch    bool   // a concealment that grows the delay: whole pitch periods repeated if periodic
	payload    []byte // the packet's payload, in buf
	buf        []byte // this unit's own copy space, MaxPayloadSize bytes
}

// tickState is owned by the tick goroutine (Advance and Read); the fields it shares with Push are
// only read or written under Buffer.mu.
type tickState struct {
	plan    [planUnits]unit
	n       int // units in plan
	filled  int // samples of this tick planned so far
	nextID  uint64
	present bool

	playing    bool  // inside a talkspurt: the cursor advances with the packets
	cursor     int64 // media position of the playout, in samples at codec.SampleRate
	credit     int64 // samples concealed while waiting for a packet that may still come
	expansions int   // consecutive ticks of waiting on an empty buffer
	grew       bool  // this tick already stretched the playout
	lastSilent bool  // the last thing played was silence (DTX, comfort noise, a gap)

	lastDec        int // decoder of the last packet, for concealment
	lastDur        int // duration of the last packet
	lastLevel      codec.Level
	lastLevelKnown bool
	lastVoice      bool
	lastUnvoiced   bool

	lossRate       float64
	lossy          bool
	lastLoss       int64 // ns
	now            int64 // the tick's time, ns
	target         int64 // ns
	peak, peakAt   int64 // highest recent target and when it was set
	lastVoicedDrop int64
	excessSince    int64 // when the delay was first seen above what it may shrink to, or noExcess
	lateRun        bool  // the packets since lateRunStart all came too late to play
	lateRunStart   int64 // arrival of the first of them, ns

	// The decode stage.
	pcm       [codec.MaxPacketSamples]int16
	pcmID     uint64 // unit whose samples pcm holds (0: none)
	scratch   [codec.FrameSamples]int16
	fedID     []uint64 // per decoder: the last unit it decoded or concealed
	missed    []bool   // per decoder: audible audio went by undecoded since it was last fed
	read      bool     // Read ran in this tick
	squeezed  int      // samples of the tick's squeeze units
	stretched bool     // the tick has a stretch unit
	// hist is the last 40 ms read, in order, for the pitch of a stretch; its last histN samples
	// are audio read in consecutive ticks.
	hist     [2 * maxPitchLag]int16
	histN    int
	queue    [squeezeCap]int16
	held     int // samples at the start of queue that the last squeeze left to play
	accel    accelerator
	resetAll bool // the stream restarted: reset every decoder before the next use
}

// init allocates the tick side's buffers.
func (t *tickState) init(b *Buffer) {
	for i := range t.plan {
		t.plan[i].buf = make([]byte, b.cfg.MaxPayloadSize)
		t.plan[i].dec = -1
	}
	t.fedID = make([]uint64, len(b.decoders))
	t.missed = make([]bool, len(b.decoders))
	t.lastDec = -1
	t.lastDur = codec.FrameSamples
	t.lastSilent = true
	t.peakAt = -1 << 62
	t.lastVoicedDrop = -1 << 62
	t.excessSince = noExcess
}

// Advance moves the playout to the tick at now and reports what the tick holds, without
// decoding: whether there is audio (a packet, or a loss being concealed), its RFC 6464 level when
// known without decoding (the packet's header extension, G.711 energy, or Opus DTX as silence),
// and the voice flag. Call it once per 20 ms tick, before Read. Packets due in the tick are
// consumed whether or not Read follows. It allocates nothing.
func (b *Buffer) Advance(now time.Time) codec.Activity {
	t := &b.tick
	t.carry()
	b.mu.Lock()
	tickNs := b.clockLocked(now)
	t.now = tickNs
	if b.restart {
		b.restart = false
		t.n, t.filled, t.playing, t.credit, t.expansions, t.lastSilent = 0, 0, false, 0, 0, true
		t.lateRun = false
		t.resetAll = true
	}
	b.updateTargetLocked(tickNs)
	b.fillLocked(tickNs)
	b.mu.Unlock()
	return t.activity()
}

// carry starts a new tick's plan with what is left of the last unit of the previous tick.
func (t *tickState) carry() {
	if !t.read {
		// The last tick was not read (its participant was not among the talkers): note the
		// decoders that missed audible audio, which want a concealment before they resume.
		// Silence (DTX, comfort noise) missed is nothing to bridge.
		for i := range t.plan[:t.n] {
			if u := &t.plan[i]; u.dec >= 0 && u.kind != unitSilence && !u.unvoiced && !(u.levelKnown && u.level <= silentLevel) {
				t.missed[u.dec] = true
			}
		}
	}
	if !t.read {
		t.held, t.histN = 0, 0 // what the last squeeze held back is stale now
	}
	t.read = false
	t.grew = false
	t.squeezed, t.stretched = 0, false
	t.present = false
	if t.n == 0 {
		t.filled = 0
		return
	}
	last := &t.plan[t.n-1]
	rest := last.samples - last.skip - last.take
	if rest <= 0 || last.squeeze {
		t.n, t.filled = 0, 0
		return
	}
	first := &t.plan[0]
	if last != first {
		// Swap copy space rather than copy bytes: the carried unit keeps its payload.
		buf := first.buf
		*first = *last
		last.buf = buf
	}
	first.skip += first.take
	first.take = min(rest, codec.FrameSamples)
	t.n, t.filled = 1, first.take
}

// updateTargetLocked recomputes the target delay from the histogram and the floors.
func (b *Buffer) updateTargetLocked(now int64) {
	t := &b.tick
	target := b.delay.quantile(targetQuantile)
	floor := b.cfg.MinDelay
	if t.lossy && t.lastDec >= 0 && b.decoders[t.lastDec].Codec() == codec.Opus {
		floor = max(floor, lossFloor)
	}
	target = min(max(target, floor), b.cfg.MaxTarget)
	t.target = int64(target)
	if t.target >= t.peak || now-t.peakAt > int64(peakHold) {
		t.peak, t.peakAt = t.target, now
	}
	b.stats.targetDelay.Store(t.target)
}

// fillLocked plans the tick's 20 ms from the store; doc.go describes the rules.
func (b *Buffer) fillLocked(tickNs int64) {
	t := &b.tick
	for step := 0; t.filled < codec.FrameSamples; step++ {
		rest := codec.FrameSamples - t.filled
		if step >= maxSteps || t.n >= planUnits-1 {
			t.add(unitSilence, -1, rest)
			return
		}
		// Every decision is taken at the tick's start, for all of its packets: a packet that
		// plays 10 ms into the tick must still be here now.
		pos := tickNs
		minT, timed := b.delay.minTransit()
		if !t.playing {
			sl := b.firstAudioLocked(b.next)
			if sl == nil && b.next <= b.highest {
				// Only events stored (a long key press with the audio paused): pass them, so that
				// they do not fill the window.
				if b.started {
					b.loseLocked(b.highest + 1)
				}
				b.skipLocked(b.highest + 1)
			}
			if sl == nil || (timed && pos < minT+samplesToNs(sl.media)+t.target) {
				t.add(unitSilence, -1, rest)
				return
			}
			// A talkspurt starts, at the target delay: sequence numbers skipped on the way were
			// lost, unless the stream had not started.
			if b.started {
				b.loseLocked(sl.ext)
			}
			b.skipLocked(sl.ext)
			b.started, t.playing, t.cursor, t.credit, t.expansions = true, true, sl.media, 0, 0
			continue
		}
		sl := b.store.get(b.next)
		if sl != nil && sl.kind != Audio {
			if sl.kind == ComfortNoise {
				t.lastSilent = true
			}
			b.consumeLocked(sl)
			continue
		}
		delay := pos - minT - samplesToNs(t.cursor) // the playout delay behind the fastest path
		if !timed {
			delay = t.target
		}
		if sl != nil {
			gap := sl.media - t.cursor
			if gap > gapTolerance || (sl.marker && gap > 0) {
				// A silence in the sender's timeline (DTX, or a talkspurt start): go idle, and
				// start again at the target delay, which adapts the delay for free.
				t.playing, t.lastSilent = false, true
				continue
			}
			if b.takeLocked(sl, gap, delay, tickNs) {
				b.stats.currentDelay.Store(max(delay, 0))
			}
			continue
		}
		// The next packet is missing.
		if m := b.firstLaterLocked(); m != nil && (delay >= t.target || !timed || pos-m.arrival > int64(b.cfg.MaxDelay)) {
			b.loseLocked(m.ext)
			b.skipLocked(m.ext)
			if m.kind != Audio {
				continue
			}
			span := m.media - t.cursor - t.credit
			t.cursor, t.credit = m.media, 0
			if span > maxConcealSamples {
				t.playing = false // too long to conceal: start afresh at m
				continue
			}
			b.concealLostLocked(m, int(span))
			continue
		}
		// Nothing to play yet: wait by concealing, unless the stream went silent.
		if t.lastSilent || t.expansions >= maxExpansions {
			t.playing, t.lastSilent = false, true
			t.add(unitSilence, -1, rest)
			return
		}
		t.addConceal(rest)
		t.credit += int64(rest)
		t.expansions++
		b.stats.expanded.Add(1)
		return
	}
}

// takeLocked plays, drops or waits before the next packet sl, which starts gap samples after the
// cursor, at the given playout delay. It reports whether sl was played.
func (b *Buffer) takeLocked(sl *slot, gap, delay, now int64) bool {
	t := &b.tick
	info := &b.pts[sl.pt]
	dec := b.decoders[info.dec]
	payload := sl.payload[:sl.n]
	dur, err := dec.Duration(payload)
	if err != nil || dur <= 0 || dur > codec.MaxPacketSamples {
		// A payload the decoder cannot read is a lost packet.
		b.stats.invalid.Add(1)
		b.stats.lost.Add(1)
		b.consumeLocked(sl)
		b.noteLoss(1)
		t.cursor += int64(t.lastDur)
		t.addConceal(t.lastDur)
		return false
	}
	if delay > int64(b.cfg.MaxDelay+codec.FrameDuration) {
		if b.pathMovedLocked(sl) {
			// Every packet for pathMoveAfter came this late: the old fastest path is gone.
			// Start a talkspurt at this packet, at the target delay from the new path.
			t.playing, t.lastSilent = false, true
			return false
		}
		// Later than the most the buffer may delay, behind packets that came faster: as good
		// as lost, and playing it would hold every later packet as long.
		b.consumeLocked(sl)
		b.stats.late.Add(1)
		b.noteLoss(1)
		t.cursor = max(t.cursor, sl.media) + int64(dur)
		return false
	}
	dtx := info.codec == codec.Opus && codec.OpusIsDTX(payload)
	level, known := sl.level, sl.hasLevel
	unvoiced := false
	switch {
	case known:
	case info.codec == codec.PCMU || info.codec == codec.PCMA:
		level, known = codec.G711Level(payload, info.codec), true
	case info.codec == codec.Opus && !dtx:
		// An open microphone without DTX or RFC 6464 (a phone, issue 9): the SILK voice
		// activity flag says whether the packet holds speech. The mixer leaves one without
		// undecoded unless its sender is talking (codec.Activity.Unvoiced): a steady tone, say,
		// loses the flag after half a second but stays a talker while it is loud.
		voice, ok := codec.OpusVoiceActivity(payload)
		unvoiced = ok && !voice
	}
	silent := dtx || unvoiced || (known && level <= silentLevel && !sl.voice)
	quiet := known && level <= quietLevel && !sl.voice
	// Without sl, the packet after it plays dur earlier; and packets shorter than a tick must all
	// be here at its start, so the last one of this tick would wait 20 ms less than the first.
	after := delay - samplesToNs(int64(max(dur, codec.FrameSamples-t.filled)))
	// A dropped packet is time-compressed away with its neighbours (DTX is silence, and a packet
	// longer than maxSqueeze is cut): up to maxSqueeze a tick, so that a run of silent packets
	// that reads as silence but holds a tone (Opus without its voice flag) does not click either.
	squeeze := !dtx && dur <= maxSqueeze
	fits := t.squeezed+dur <= maxSqueeze && t.n < planUnits-2
	if (!squeeze || fits || after >= int64(b.cfg.MaxDelay)) && b.shouldDropLocked(silent || quiet, after, now) {
		if squeeze && fits {
			// Decode it all the same, and let Read time-compress it away with the audio around
			// it: a cut would click (doc.go, "Shrinking without a click").
			u := t.push(unitPacket, info.dec, dur, 0)
			u.payload = u.buf[:copy(u.buf, payload)]
			u.level, u.levelKnown, u.voice, u.unvoiced, u.squeeze = level, known, sl.voice, unvoiced, true
			t.squeezed += dur
		}
		b.consumeLocked(sl)
		b.stats.dropped.Add(1)
		t.cursor = max(t.cursor, sl.media) + int64(dur)
		return false
	}
	if delay < t.target && !t.grew && !t.lastSilent {
		// Behind the target (it rose, or loss asks for a frame in hand): stretch by one
		// concealment now rather than wait for an underrun.
		t.grew = true
		if u := t.addConceal(codec.FrameSamples - t.filled); u != nil && u.skip == 0 && u.take == codec.FrameSamples && t.squeezed == 0 {
			// A whole tick: Read repeats whole pitch periods of what just played instead, when
			// it is periodic, so that the packet after it follows without a phase jump.
			u.stretch, t.stretched = true, true
		}
		b.stats.expanded.Add(1)
		return false
	}
	b.consumeLocked(sl)
	b.noteLoss(0)
	b.stats.played.Add(1)
	t.lateRun = false
	if gap >= -gapTolerance {
		t.cursor = sl.media
	}
	t.cursor += int64(dur)
	t.credit, t.expansions = 0, 0
	t.lastDec, t.lastDur = info.dec, dur
	if dtx {
		t.lastSilent = true
		t.lastLevel, t.lastLevelKnown, t.lastVoice, t.lastUnvoiced = codec.Silence, true, false, false
		t.add(unitSilence, info.dec, dur)
		return true
	}
	t.lastSilent = false
	t.lastLevel, t.lastLevelKnown, t.lastVoice, t.lastUnvoiced = level, known, sl.voice, unvoiced
	u := t.add(unitPacket, info.dec, dur)
	u.payload = u.buf[:copy(u.buf, payload)]
	return true
}

// pathMovedLocked is told that packet sl is too late to play, and reports whether the stream's
// path has moved rather than spiked: sl itself came more than MaxDelay (plus a frame) behind the
// fastest path of the last transitWindow, and so has every packet since the first of a run of such
// packets that arrived pathMoveAfter or more before it, with none played in between. A sender
// that stalled and then went on with contiguous timestamps (a phone whose process was starved
// drops the audio it missed but not its RTP clock) or a route that became slower for good looks
// like this; without this rule each of its packets would be dropped as late until the fast
// packets leave the window, up to two seconds of silence after every such step. It then forgets
// the old path: the delay histogram starts afresh, the window is refilled from the stored
// packets, sl first, and the step counts as a timestamp jump. A spike (a burst after a blackout) does not qualify: the packets after it come
// on time and play, which ends the run; nor does a tick that ran late, since its packets came on
// time.
func (b *Buffer) pathMovedLocked(sl *slot) bool {
	t := &b.tick
	minT, ok := b.delay.minTransit()
	if !ok || sl.arrival-samplesToNs(sl.media)-minT <= int64(b.cfg.MaxDelay+codec.FrameDuration) {
		t.lateRun = false
		return false
	}
	if !t.lateRun {
		t.lateRun, t.lateRunStart = true, sl.arrival
	}
	if sl.arrival-t.lateRunStart < int64(pathMoveAfter) {
		return false
	}
	t.lateRun = false
	// The histogram goes too: it holds the step itself as delay, which would keep the target at
	// MaxDelay for seconds on a path that no longer jitters like that.
	b.delay.init(b.cfg.MaxDelay, b.cfg.StartDelay)
	for e := sl.ext; e <= b.highest; e++ {
		if s := b.store.get(e); s != nil && s.kind == Audio {
			b.delay.addTransit(s.arrival, s.arrival-samplesToNs(s.media))
		}
	}
	b.stats.jumps.Add(1)
	return true
}

// shouldDropLocked decides whether to skip the next packet to shorten the delay to after: only
// when after is still at or above the highest target of the last second, and the packet after it
// is in hand. Silent or quiet packets go at once; a voiced one only once the excess has waited
// voicedWait for a pause in vain, and then at most every voicedDropInterval; any packet above
// MaxDelay.
func (b *Buffer) shouldDropLocked(silent bool, after, now int64) bool {
	t := &b.tick
	if after < t.peak+min(t.peak/shrinkMargin, maxShrinkMargin) {
		t.excessSince = noExcess
		return false // no excess
	}
	if b.store.get(b.next+1) == nil {
		return false // nothing in hand to play instead
	}
	if t.excessSince == noExcess {
		t.excessSince = now
	}
	if silent || after >= int64(b.cfg.MaxDelay) {
		return true
	}
	if now-t.excessSince >= int64(voicedWait) && now-t.lastVoicedDrop >= int64(voicedDropInterval) {
		t.lastVoicedDrop = now
		return true
	}
	return false
}

// concealLostLocked plans the span samples of lost audio before packet m: concealment, then the
// last lost packet recovered from m's in-band FEC when m can carry it.
func (b *Buffer) concealLostLocked(m *slot, span int) {
	t := &b.tick
	if span <= 0 {
		return
	}
	info := &b.pts[m.pt]
	payload := m.payload[:m.n]
	fecDur := 0
	if info.dec == t.lastDec || t.lastDec < 0 {
		if d, err := b.decoders[info.dec].Duration(payload); err == nil && d <= span {
			fecDur = d
		}
	}
	if span-fecDur > 0 {
		t.addConceal(span - fecDur)
	}
	if fecDur > 0 {
		u := t.add(unitFEC, info.dec, fecDur)
		u.payload = u.buf[:copy(u.buf, payload)]
		u.level, u.levelKnown, u.voice, u.unvoiced = t.lastLevel, t.lastLevelKnown, t.lastVoice, t.lastUnvoiced
	}
}

// add appends a unit of samples to the plan, to play as much of it as the tick has room for, and
// returns it.
func (t *tickState) add(kind unitKind, dec, samples int) *unit {
	return t.push(kind, dec, samples, min(samples, codec.FrameSamples-t.filled))
}

// push appends a unit of samples of which take play in this tick, and returns it.
func (t *tickState) push(kind unitKind, dec, samples, take int) *unit {
	u := &t.plan[t.n]
	t.n++
	t.nextID++
	u.kind, u.id, u.dec, u.samples, u.skip, u.take = kind, t.nextID, dec, samples, 0, take
	u.payload, u.squeeze, u.stretch = nil, false, false
	u.level, u.levelKnown, u.voice, u.unvoiced = t.lastLevel, t.lastLevelKnown, t.lastVoice, t.lastUnvoiced
	if kind == unitSilence {
		u.level, u.levelKnown, u.voice, u.unvoiced = codec.Silence, true, false, false
	}
	t.filled += u.take
	return u
}

// addConceal appends a concealment of at least samples, rounded up to concealStep, with the
// decoder of the last packet, and returns it (nil when there is nothing to continue).
func (t *tickState) addConceal(samples int) *unit {
	if t.lastDec < 0 {
		t.add(unitSilence, -1, samples) // nothing was ever decoded: nothing to continue
		return nil
	}
	n := min((samples+concealStep-1)/concealStep*concealStep, codec.MaxPacketSamples)
	return t.add(unitConceal, t.lastDec, n)
}

// activity summarises the plan for the mixer's first phase.
func (t *tickState) activity() codec.Activity {
	a := codec.Activity{LevelKnown: true, Level: codec.Silence}
	unvoiced := true
	for i := 0; i < t.n; i++ {
		u := &t.plan[i]
		if u.kind == unitSilence || u.take == 0 {
			continue
		}
		a.Present = true
		if !u.levelKnown {
			a.LevelKnown = false
			unvoiced = unvoiced && u.unvoiced
		} else if u.level > a.Level {
			a.Level = u.level
		}
		a.Voice = a.Voice || u.voice
	}
	if a.Present && !a.LevelKnown {
		a.Level = codec.Silence
		a.Unvoiced = unvoiced
	}
	t.present = a.Present
	return a
}

// firstAudioLocked returns the first stored audio packet at or after ext, or nil.
func (b *Buffer) firstAudioLocked(ext int64) *slot {
	for e := ext; e <= b.highest; e++ {
		if sl := b.store.get(e); sl != nil && sl.kind == Audio {
			return sl
		}
	}
	return nil
}

// firstLaterLocked returns the first stored packet after the next one, or nil.
func (b *Buffer) firstLaterLocked() *slot {
	for e := b.next + 1; e <= b.highest; e++ {
		if sl := b.store.get(e); sl != nil {
			return sl
		}
	}
	return nil
}

// consumeLocked removes the next packet, sl, from the store.
func (b *Buffer) consumeLocked(sl *slot) {
	sl.filled = false
	b.next++
	b.playedMask = b.playedMask<<1 | 1
}

// loseLocked counts the missing audio packets between next and ext as lost.
func (b *Buffer) loseLocked(ext int64) {
	lost := 0
	for e := b.next; e < ext; e++ {
		if b.store.get(e) == nil {
			lost++
		}
	}
	if lost > 0 {
		b.stats.lost.Add(uint64(lost))
		b.noteLoss(lost)
	}
}

// skipLocked moves next to ext, dropping the packets (events already handed on) in between.
func (b *Buffer) skipLocked(ext int64) {
	for e := b.next; e < ext; e++ {
		if sl := b.store.get(e); sl != nil {
			sl.filled = false
		}
	}
	if d := ext - b.next; d >= 64 {
		b.playedMask = 0
	} else if d > 0 {
		b.playedMask <<= uint(d)
	}
	b.next = max(b.next, ext)
}

// noteLoss updates the loss rate that decides whether to keep a frame in hand with lost packets,
// or with one packet played when lost is 0.
func (b *Buffer) noteLoss(lost int) {
	t := &b.tick
	if lost == 0 {
		t.lossRate -= t.lossRate / lossMemory
	} else {
		t.lastLoss = t.now
		for range min(lost, lossMemory) {
			t.lossRate += (1 - t.lossRate) / lossMemory
		}
	}
	quiet := t.now-t.lastLoss > int64(lossQuiet)
	if t.lossRate > lossOn && !quiet {
		t.lossy = true
	} else if t.lossRate < lossOff || quiet {
		t.lossy = false
	}
}
