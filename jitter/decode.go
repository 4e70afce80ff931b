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
		t.held = 0
	}
	if !t.present {
		f.Clear()
		t.held = 0 // the talkspurt ended: what a squeeze held back (under a pitch period) goes
		return false
	}
	if t.held == 0 && t.squeezed == 0 {
		b.render(f[:], false)
		return true
	}
	// A dropped packet to time-compress away, or samples held back by the last squeeze: the
	// tick's audio goes through the queue, and the first 20 ms of it play.
	q := t.queue[:]
	n := t.held + b.render(q[t.held:], true)
	if t.squeezed > 0 {
		n = t.accel.squeeze(q[:n], n-codec.FrameSamples)
		b.stats.accelerated.Add(1)
	}
	copy(f[:], q[:codec.FrameSamples])
	t.held = copy(q, q[codec.FrameSamples:n])
	return true
}

// render writes the tick's planned audio into dst, decoding, concealing or recovering units as
// needed, and returns the samples written: the tick's 20 ms, plus every dropped packet whole, in
// timeline order, when squeezed is set.
func (b *Buffer) render(dst []int16, squeezed bool) int {
	t := &b.tick
	pos, tick := 0, 0
	for i := 0; i < t.n; i++ {
		u := &t.plan[i]
		if u.squeeze {
			if squeezed {
				b.produce(u)
				pos += copy(dst[pos:], t.pcm[:u.samples])
			}
			continue
		}
		if u.take == 0 {
			continue
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
