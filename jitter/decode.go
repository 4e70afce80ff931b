package jitter

import "confd/codec"

// Read decodes this tick's 20 ms into f: packets are decoded, lost ones concealed or recovered
// from the next packet's FEC, and silences left as zeros. Call it at most once per tick, after
// Advance. It returns false, with f cleared, when the tick has nothing to play.
//
// A decoder that missed units (a tick without Read, a silence, another payload type in between)
// first runs one concealment whose output is thrown away, so that it resumes from a decayed
// state instead of decoding across the gap as if the audio were continuous; unlike a reset this
// allocates nothing. A packet dropped to shorten the delay is decoded and time-compressed away
// with the tick's audio (doc.go, "Shrinking without a click"). Read allocates nothing.
func (b *Buffer) Read(f *codec.Frame) bool {
	t := &b.tick
	t.read = true
	if t.resetAll {
		t.resetAll = false
		for i, d := range b.decoders {
			d.Reset() // a restart of the stream: rare, and worth a clean state
			t.fedID[i] = 0
		}
		t.pcmID = 0
		t.held, t.histN = 0, 0
	}
	if !t.present {
		f.Clear()
		t.held = 0 // the talkspurt ended: what a squeeze held back (under a pitch period) goes
		t.histN = 0
		return false
	}
	defer t.remember(f)
	if t.held == 0 && t.squeezed == 0 && !t.stretched {
		b.render(f[:], false)
		return true
	}
	// A dropped packet to time-compress away, or samples held back by the last squeeze or
	// stretch: the tick's audio goes through the queue, and the first 20 ms of it play.
	q := t.queue[:]
	surplus := t.held
	n := t.held + b.render(q[t.held:], true)
	switch {
	case t.squeezed > 0:
		n = t.accel.squeeze(q[:n], n-codec.FrameSamples)
		b.stats.accelerated.Add(1)
	case surplus >= maxSurplus && !t.stretched:
		// What was held back is delay no one planned: the playout's cursor does not count it,
		// so no drop would ever take it away while the stream plays on (a trunk or a cascade
		// never pauses), and a stretch's surplus of up to 20 ms would stay for the call. It
		// waits while the audio repeats at a longer period than it: a cut then turns the phase.
		n = t.accel.trim(q[:n], surplus)
	}
	copy(f[:], q[:codec.FrameSamples])
	t.held = copy(q, q[codec.FrameSamples:n])
	return true
}

// remember keeps the last 40 ms read, for the pitch of a stretch.
func (t *tickState) remember(f *codec.Frame) {
	copy(t.hist[:], t.hist[codec.FrameSamples:])
	copy(t.hist[len(t.hist)-codec.FrameSamples:], f[:])
	t.histN = min(t.histN+codec.FrameSamples, len(t.hist))
}

// render writes the tick's planned audio into dst, decoding, concealing or recovering units as
// needed, and returns the samples written: the tick's 20 ms, plus every dropped packet whole and
// a stretch's whole pitch periods, in timeline order, when queued is set.
func (b *Buffer) render(dst []int16, queued bool) int {
	t := &b.tick
	pos, tick := 0, 0
	for i := 0; i < t.n; i++ {
		u := &t.plan[i]
		if u.squeeze {
			if queued {
				b.produce(u)
				pos += copy(dst[pos:], t.pcm[:u.samples])
			}
			continue
		}
		if u.take == 0 {
			continue
		}
		if u.stretch && queued {
			if n := b.stretch(dst[pos:], u); n > 0 {
				pos += n
				tick += u.take
				continue
			}
		}
		if u.kind == unitSilence {
			clear(dst[pos : pos+u.take])
		} else {
			if t.pcmID != u.id {
				b.produce(u)
			}
			copy(dst[pos:pos+u.take], t.pcm[u.skip:u.skip+u.take])
		}
		pos += u.take
		tick += u.take
	}
	end := pos + codec.FrameSamples - tick
	clear(dst[pos:end])
	return end
}

// produce decodes, conceals or FEC-recovers unit u whole into t.pcm.
func (b *Buffer) produce(u *unit) {
	t := &b.tick
	dec := b.decoders[u.dec]
	pcm := t.pcm[:u.samples]
	if last := t.fedID[u.dec]; last != 0 && last+1 != u.id {
		if t.missed[u.dec] {
			// The decoder missed audible audio: let it conceal once, discarded, rather
			// than splice.
			_, _ = dec.Conceal(t.scratch[:])
		} else {
			// It missed only silence: start afresh. Its last act was likely to conceal the
			// end of the talkspurt, and libopus ramps its gain up over ~80 ms after a
			// concealment, so every talkspurt would start 15 dB low (found by bench/load).
			// Reset allocates nothing (codec.OpusDecoder keeps a pristine state).
			dec.Reset()
		}
	}
	t.missed[u.dec] = false
	t.fedID[u.dec] = u.id
	t.pcmID = u.id
	n := 0
	switch u.kind {
	case unitPacket:
		n, _ = dec.Decode(u.payload, pcm)
	case unitFEC:
		var err error
		n, err = dec.DecodeFEC(u.payload, pcm)
		if err == nil {
			b.stats.fecRecovered.Add(1)
			break
		}
		fallthrough // no FEC in the payload (codec.ErrNoFEC) or unreadable: conceal
	case unitConceal:
		n, _ = dec.Conceal(pcm)
		b.stats.concealed.Add(1)
	}
	if n < len(pcm) {
		clear(pcm[max(n, 0):]) // a corrupt payload plays as silence, never as stale samples
	}
}

// stretch writes a stretch unit u as whole pitch periods of the 40 ms before it, repeating the
// last of them (the longest lag up to 20 ms at which that audio repeats: one or several periods),
// and returns the samples written: as many periods as bring what the last
// squeeze held back plus them to at least 20 ms, the surplus (under a period) held back again.
// The packet after it then continues the waveform where the repetition ends, with no phase jump,
// as NetEq's PreemptiveExpand does. It returns 0 when the audio is not periodic, or the surplus
// would exceed maxPitchLag: then the decoder conceals as for any other unit.
func (b *Buffer) stretch(dst []int16, u *unit) int {
	t := &b.tick
	if t.histN < len(t.hist) {
		return 0
	}
	// The 40 ms before the insertion, newest first: what a squeeze or stretch held back, then
	// what was read.
	rev := t.accel.rev[:]
	held := t.queue[:min(t.held, len(rev))]
	for i := range rev {
		if i < len(held) {
			rev[i] = held[len(held)-1-i]
		} else {
			rev[i] = t.hist[len(t.hist)-1-(i-len(held))]
		}
	}
	p, ok := t.accel.pitchLag(rev, minPitchLag, maxPitchLag)
	if !ok {
		return 0
	}
	m := codec.FrameSamples / p * p
	if t.held+m < codec.FrameSamples {
		m += p
	}
	if t.held+m-codec.FrameSamples > maxPitchLag || m > len(dst) {
		return 0
	}
	for i := range m {
		dst[i] = rev[p-1-i%p] // the last period, over and over
	}
	// The decoder's audio goes on with the next packet as if nothing were inserted.
	t.fedID[u.dec], t.missed[u.dec] = u.id, false
	t.accel.stretched++
	return m
}
