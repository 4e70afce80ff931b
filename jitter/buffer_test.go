package jitter

import (
	"errors"
	"testing"
	"time"

	"confd/codec"
)

// driver pushes hand-made packets and ticks a Buffer on a synthetic clock.
type driver struct {
	t     *testing.T
	b     *Buffer
	decs  map[codec.Codec]*fakeDecoder
	epoch time.Time
	tick  int
	f     codec.Frame
}

// newDriver returns a driver for a buffer of cfg, which starts without delay unless
// cfg.StartDelay says otherwise, so that a clean stream plays each packet in the tick it arrives.
func newDriver(t *testing.T, cfg Config) *driver {
	if cfg.StartDelay == 0 {
		cfg.StartDelay = time.Nanosecond
	}
	b, decs := newFakeBuffer(t, cfg)
	return &driver{t: t, b: b, decs: decs, epoch: testEpoch}
}

// at returns the time of the current tick plus d.
func (d *driver) at(dt time.Duration) time.Time {
	return d.epoch.Add(time.Duration(d.tick)*codec.FrameDuration + dt)
}

// push sends fake Opus packet index (seq = index, ts = index·samples) at offset dt into the
// current tick period.
func (d *driver) push(index int, samples int, dt time.Duration) {
	d.t.Helper()
	d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(index), Timestamp: uint32(index * samples), SSRC: 1,
		Payload: fakePayload(index, samples, false)}, dt)
}

func (d *driver) pushPacket(p Packet, dt time.Duration) {
	d.t.Helper()
	if err := d.b.Push(p, d.at(dt)); err != nil {
		d.t.Fatalf("push seq %d: %v", p.SequenceNumber, err)
	}
}

// step ticks once (Advance, and Read when read) and returns the first and last sample and
// whether there was audio.
func (d *driver) step(read bool) (first, last int16, ok bool) {
	d.tick++
	a := d.b.Advance(d.at(0))
	if !read {
		return 0, 0, a.Present
	}
	ok = d.b.Read(&d.f)
	if ok != a.Present {
		d.t.Fatalf("tick %d: Read %v but Advance said Present %v", d.tick, ok, a.Present)
	}
	return d.f[0], d.f[codec.FrameSamples-1], ok
}

// stream pushes packet i early in tick i (20 ms packets) and ticks, returning what each tick
// played (the first sample).
func (d *driver) stream(from, to int, skip func(i int) bool) []int16 {
	var out []int16
	for i := from; i < to; i++ {
		if skip == nil || !skip(i) {
			d.push(i, 960, time.Millisecond)
		}
		v, _, _ := d.step(true)
		out = append(out, v)
	}
	return out
}

func TestReorderedPacketsPlayInOrder(t *testing.T) {
	d := newDriver(t, Config{StartDelay: 60 * time.Millisecond})
	// Pairs swap: 1 0 3 2 5 4 ..., the second of each pair 5 ms later.
	var played []int16
	for i := 0; i < 100; i += 2 {
		d.push(i+1, 960, time.Millisecond)
		d.push(i, 960, 6*time.Millisecond)
		v, _, _ := d.step(true)
		played = append(played, v)
		v, _, _ = d.step(true)
		played = append(played, v)
	}
	last, jumps := int16(0), 0
	for _, v := range played {
		if v > 0 {
			if v <= last {
				t.Fatalf("played %d after %d: %v", v, last, played)
			}
			if v != last+1 && last != 0 {
				jumps++
			}
			last = v
		}
	}
	st := d.b.Stats()
	if st.Lost != 0 || st.Late != 0 || st.Played < 95 || uint64(jumps) > st.Dropped {
		t.Errorf("stats %+v, %d jumps", st, jumps)
	}
}

func TestDuplicatesAreCountedAndPlayedOnce(t *testing.T) {
	d := newDriver(t, Config{})
	for i := range 50 {
		d.push(i, 960, time.Millisecond)
		d.push(i, 960, 2*time.Millisecond) // while stored
		d.step(true)
		d.push(i, 960, 3*time.Millisecond) // after it may have played
	}
	st := d.b.Stats()
	if st.Duplicates != 100 || st.Late != 0 || st.Played > 50 {
		t.Errorf("stats %+v, want 100 duplicates and none late", st)
	}
}

func TestSequenceAndTimestampWrap(t *testing.T) {
	d := newDriver(t, Config{})
	base := uint16(65500)
	tsBase := uint32(4294967296 - 960*30)
	for i := range 100 {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: base + uint16(i), Timestamp: tsBase + uint32(i*960), SSRC: 1,
			Payload: fakePayload(i, 960, false)}, time.Millisecond)
		d.step(true)
	}
	st := d.b.Stats()
	if st.Lost != 0 || st.Late != 0 || st.Played < 95 || st.TimestampJumps != 0 || st.Restarts != 0 {
		t.Errorf("stats across wrap-around %+v", st)
	}
}

func TestSSRCChangeRestarts(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 30, nil)
	// A new source: other numbers, other timestamps.
	for i := range 30 {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(40000 + i), Timestamp: uint32(123456 + i*960), SSRC: 2,
			Payload: fakePayload(1000+i, 960, false)}, time.Millisecond)
		d.step(true)
	}
	st := d.b.Stats()
	if st.Restarts != 1 || st.Lost != 0 || st.Late != 0 || st.Played < 55 {
		t.Errorf("stats %+v", st)
	}
	if st.Strays != 1 {
		t.Errorf("%d strays: the first packet of the new source waits for the second", st.Strays)
	}
	if d.decs[codec.Opus].resets != 1 {
		t.Errorf("decoder reset %d times, want once", d.decs[codec.Opus].resets)
	}
	if v, _, _ := d.step(true); v != 1000+29+1 && v != concealValue {
		t.Errorf("new source not playing: %d", v)
	}
}

func TestEventsAreHandedOnAndNotPlayed(t *testing.T) {
	var events []Event
	d := newDriver(t, Config{OnEvent: func(e Event, now time.Time) {
		e.Payload = append([]byte(nil), e.Payload...)
		events = append(events, e)
	}})
	// Audio 0-9, then for three ticks an event packet before each audio packet: the events use
	// up sequence numbers 10, 12 and 14.
	d.stream(0, 10, nil)
	seq := 10
	for i := 10; i < 30; i++ {
		if i < 13 {
			d.pushPacket(Packet{PayloadType: 101, SequenceNumber: uint16(seq), Timestamp: 9 * 960, SSRC: 1, Payload: []byte{1, 0, 0, 160}}, time.Millisecond)
			seq++
		}
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(seq), Timestamp: uint32(i * 960), SSRC: 1,
			Payload: fakePayload(i, 960, false)}, 2*time.Millisecond)
		seq++
		if v, _, ok := d.step(true); !ok || v != int16(i+1) {
			t.Fatalf("tick %d played %d (%v)", i, v, ok)
		}
	}
	st := d.b.Stats()
	if len(events) != 3 || events[0].Kind != TelephoneEvent || events[0].ClockRate != 48000 || events[2].Payload[3] != 160 {
		t.Errorf("events %+v", events)
	}
	if st.Lost != 0 || st.Events != 3 || d.decs[codec.Opus].plcs > 0 {
		t.Errorf("stats %+v, %d concealments", st, d.decs[codec.Opus].plcs)
	}
}

func TestComfortNoiseStartsASilence(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 20, nil)
	d.pushPacket(Packet{PayloadType: 13, SequenceNumber: 20, Timestamp: 20 * 960, SSRC: 1, Payload: []byte{60}}, time.Millisecond)
	plcs := d.decs[codec.Opus].plcs
	for range 20 {
		if _, _, ok := d.step(true); ok {
			t.Fatalf("tick %d plays %d during comfort noise", d.tick, d.f[0])
		}
	}
	if d.decs[codec.Opus].plcs != plcs {
		t.Errorf("concealed %d times after comfort noise", d.decs[codec.Opus].plcs-plcs)
	}
	// Speech resumes one second later in the sender's timeline, with the next sequence number.
	for i := 21; i < 40; i++ {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32((i + 20) * 960), SSRC: 1, Marker: i == 21,
			Payload: fakePayload(i, 960, false)}, time.Millisecond)
		d.step(true)
	}
	if st := d.b.Stats(); st.Lost != 0 || st.Played < 35 || st.Events != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDTXGapIsSilenceNotLoss(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 20, nil)
	plcs := d.decs[codec.Opus].plcs
	// The sender sends one Opus DTX frame and then nothing for 400 ms (WebRTC's Opus DTX), then
	// goes on with the next sequence number and a timestamp 400 ms further.
	d.pushPacket(Packet{PayloadType: 111, SequenceNumber: 20, Timestamp: 20 * 960, SSRC: 1, Payload: []byte{0xf8}}, time.Millisecond)
	present := 0
	for range 20 {
		if _, _, ok := d.step(true); ok {
			present++
		}
	}
	for i := 21; i < 40; i++ {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32((i + 20) * 960), SSRC: 1,
			Payload: fakePayload(i, 960, false)}, time.Millisecond)
		d.step(true)
	}
	st := d.b.Stats()
	if st.Lost != 0 || st.Late != 0 || st.Played != 40 {
		t.Errorf("stats %+v", st)
	}
	if present > 0 || d.decs[codec.Opus].plcs-plcs > 1 {
		t.Errorf("%d ticks of audio, %d concealments in a DTX gap", present, d.decs[codec.Opus].plcs-plcs)
	}
	if st.CurrentDelay > 20*time.Millisecond {
		t.Errorf("delay %v after the gap", st.CurrentDelay)
	}
}

func TestOpusDTXFramesAreSilentAndKnown(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 10, nil)
	for i := 10; i < 20; i++ {
		d.pushPacket(opusPacket(1, i, []byte{0xf8}), time.Millisecond)
		d.tick++
		a := d.b.Advance(d.at(0))
		if i > 11 && (a.Present || !a.LevelKnown || a.Level != codec.Silence) {
			t.Fatalf("DTX tick %d: %+v", i, a)
		}
	}
}

func TestLatePacketIsDroppedAndCounted(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 20, nil)
	d.stream(20, 25, func(i int) bool { return i == 20 })
	d.push(20, 960, 0) // long after 21 played
	d.stream(25, 30, nil)
	st := d.b.Stats()
	if st.Late != 1 || st.Lost != 1 {
		t.Errorf("stats %+v, want 1 late and 1 lost", st)
	}
}

func TestPacketTimes(t *testing.T) {
	for _, ms := range []int{10, 20, 30, 40, 60} {
		b, decs := newFakeBuffer(t, Config{})
		nw := network{seed: uint64(ms), base: 20 * time.Millisecond, ptime: time.Duration(ms) * time.Millisecond, jitter: uniformJitter(10 * time.Millisecond)}
		sim := simulate(t, b, nw, 10*time.Second, 4*time.Millisecond)
		st := b.Stats()
		if sim.stalls != 0 || st.Lost != 0 || st.Late != 0 || decs[codec.Opus].plcs > 2*maxExpansions {
			t.Errorf("%d ms packets: stalls %d, %d concealments, stats %+v", ms, sim.stalls, decs[codec.Opus].plcs, st)
		}
		// Audio is continuous: packets follow each other in the output, but for the drops that
		// shorten the start-up delay.
		prev, jumps := int16(0), 0
		for i, v := range sim.values[sim.firstPlay : len(sim.values)-30] {
			if v[0] > 0 && prev > 0 && v[0] != prev && v[0] != prev+1 {
				jumps++
				if v[0] < prev {
					t.Errorf("%d ms packets: tick %d goes back from packet %d to %d", ms, i, prev-1, v[0]-1)
				}
			}
			if v[1] > 0 {
				prev = v[1]
			}
		}
		if uint64(jumps) > st.Dropped {
			t.Errorf("%d ms packets: %d jumps in the audio, %d drops", ms, jumps, st.Dropped)
		}
	}
}

func TestCodecChangeMidCall(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 25, nil)
	// The sender switches to PCMU: an 8 kHz clock, timestamps continuing in it from anywhere.
	for i := 25; i < 59; i++ {
		d.pushPacket(Packet{PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(777 + (i-25)*160), SSRC: 1,
			Payload: fakePayload(i, 960, false)}, time.Millisecond)
		v, _, ok := d.step(true)
		if i > 27 && (!ok || v <= 0) {
			t.Fatalf("tick %d after the switch plays %d (%v)", i, v, ok)
		}
	}
	// And back to Opus, with the last PCMU packet arriving after the first Opus one.
	for i := 60; i < 90; i++ {
		p := Packet{PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(5000 + (i-60)*960), SSRC: 1,
			Payload: fakePayload(i, 960, false)}
		if i == 60 {
			d.pushPacket(p, 0)
			p = Packet{PayloadType: 0, SequenceNumber: 59, Timestamp: uint32(777 + 34*160), SSRC: 1, Payload: fakePayload(59, 960, false)}
		}
		d.pushPacket(p, time.Millisecond)
		v, _, ok := d.step(true)
		if i > 62 && (!ok || v <= 0) {
			t.Fatalf("tick %d after the switch back plays %d (%v)", i, v, ok)
		}
	}
	st := d.b.Stats()
	if st.Lost != 0 || st.Late > 1 || st.Duplicates != 0 || d.decs[codec.PCMU].decodes < 30 {
		t.Errorf("stats %+v, PCMU decodes %d", st, d.decs[codec.PCMU].decodes)
	}
}

func TestSkippedReadsConcealBeforeResuming(t *testing.T) {
	d := newDriver(t, Config{})
	// 60 ms packets: one packet feeds three ticks.
	for i := range 30 {
		if i%3 == 0 {
			d.push(i/3, 2880, time.Millisecond)
		}
		d.step(i < 10 || i >= 16)
	}
	dec := d.decs[codec.Opus]
	if dec.plcs != 1 {
		t.Errorf("decoder concealed %d times around the skipped ticks, want 1 (discarded)", dec.plcs)
	}
	if dec.decodes >= 10 {
		t.Errorf("%d decodes for 10 packets with 6 ticks unread", dec.decodes)
	}
	if st := d.b.Stats(); st.Played < 9 || st.Lost != 0 {
		t.Errorf("stats %+v", st)
	}
	// A 60 ms packet first read on its second tick plays its middle 20 ms.
	d2 := newDriver(t, Config{})
	for i := range 12 {
		if i%3 == 0 {
			d2.push(i/3, 2880, time.Millisecond)
		}
		d2.step(true)
	}
	d2.push(4, 2880, time.Millisecond)
	d2.step(false)
	v, _, ok := d2.step(true)
	if !ok || v != 5 {
		t.Errorf("second tick of packet 4 played %d (%v)", v, ok)
	}
}

func TestAbsurdInput(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 20, nil)
	big := make([]byte, codec.MaxPayloadSize+1)
	if err := d.b.Push(Packet{PayloadType: 111, SequenceNumber: 20, Payload: big, SSRC: 1}, d.at(0)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("huge payload: %v", err)
	}
	if err := d.b.Push(Packet{PayloadType: 99, SequenceNumber: 20, Payload: []byte{1}, SSRC: 1}, d.at(0)); !errors.Is(err, ErrUnknownPayloadType) {
		t.Errorf("unknown payload type: %v", err)
	}
	if err := d.b.Push(Packet{PayloadType: 111, SequenceNumber: 20, SSRC: 1}, d.at(0)); !errors.Is(err, ErrEmptyPayload) {
		t.Errorf("empty payload: %v", err)
	}
	// One packet from nowhere: far ahead in sequence. It is put on probation, not believed.
	d.pushPacket(Packet{PayloadType: 111, SequenceNumber: 30000, Timestamp: 5, SSRC: 1, Payload: fakePayload(9999, 960, false)}, 0)
	// A timestamp jump of hours with the sequence going on: re-anchored, no stall.
	for i := 20; i < 40; i++ {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i*960 + 1e9), SSRC: 1,
			Payload: fakePayload(i, 960, false)}, time.Millisecond)
		v, _, ok := d.step(true)
		if i > 21 && (!ok || v != int16(i+1)) {
			t.Fatalf("tick for packet %d played %d (%v)", i, v, ok)
		}
	}
	st := d.b.Stats()
	if st.Invalid != 3 || st.Overflow != 1 || st.Restarts != 0 || st.TimestampJumps != 1 || st.Lost != 0 {
		t.Errorf("stats %+v", st)
	}
	// A sequence jump that holds (the sender renumbered) restarts the stream.
	for i := 40; i < 60; i++ {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(i + 20000), Timestamp: uint32(i*960 + 1e9), SSRC: 1,
			Payload: fakePayload(i, 960, false)}, time.Millisecond)
		d.step(true)
	}
	if st := d.b.Stats(); st.Restarts != 1 || st.Played < 55 {
		t.Errorf("after renumbering: stats %+v", st)
	}
}

func TestBoundedWhenTheTickStops(t *testing.T) {
	d := newDriver(t, Config{})
	d.stream(0, 10, nil)
	// The room stops ticking for two seconds while packets keep coming.
	for i := 10; i < 110; i++ {
		d.push(i, 960, time.Duration(i-10)*codec.FrameDuration)
	}
	d.tick += 100
	d.stream(110, 160, nil)
	st := d.b.Stats()
	if st.CurrentDelay > 2*DefaultMaxDelay {
		t.Errorf("delay %v after the tick resumed", st.CurrentDelay)
	}
	if st.Overflow == 0 && st.Restarts == 0 {
		t.Errorf("stats %+v: 100 packets fitted in %d slots?", st, DefaultCapacity)
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.TargetDelay != DefaultStartDelay {
		t.Errorf("start target %v", st.TargetDelay)
	}
	if b.String() != "jitter(0s-200ms, 32 slots)" {
		t.Errorf("String %q", b.String())
	}
	for _, cfg := range []Config{
		{MinDelay: time.Second},
		{Capacity: 2},
		{MaxPayloadSize: -1},
		{PayloadTypes: []PayloadType{{Type: 200, Codec: codec.PCMU}}},
		{PayloadTypes: []PayloadType{{Type: 0, Codec: codec.PCMU}, {Type: 0, Codec: codec.PCMA}}},
		{PayloadTypes: []PayloadType{{Type: 9, Codec: codec.Codec(99)}}}, // a codec with no decoder
		{PayloadTypes: []PayloadType{{Type: 5, Kind: 9}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestInterleavedSourcesDoNotFlushTheStream(t *testing.T) {
	d := newDriver(t, Config{})
	for i := range 50 {
		d.push(i, 960, time.Millisecond)
		// A second source (a misrouted stream) sends in between.
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(5000 + i), Timestamp: uint32(i * 777), SSRC: 77,
			Payload: fakePayload(9000+i, 960, false)}, 2*time.Millisecond)
		if v, _, ok := d.step(true); !ok || v != int16(i+1) {
			t.Fatalf("tick %d played %d (%v)", i, v, ok)
		}
	}
	if st := d.b.Stats(); st.Restarts != 0 || st.Strays != 50 || st.Played != 50 {
		t.Errorf("stats %+v", st)
	}
}

func TestLongKeyPressWithoutAudio(t *testing.T) {
	var events int
	d := newDriver(t, Config{OnEvent: func(Event, time.Time) { events++ }})
	d.stream(0, 10, nil)
	// Two seconds of one key, every 20 ms, with the audio paused (many phones do this).
	seq := 10
	for range 100 {
		d.pushPacket(Packet{PayloadType: 101, SequenceNumber: uint16(seq), Timestamp: 10 * 960, SSRC: 1, Payload: []byte{5, 10, 0, 160}}, time.Millisecond)
		seq++
		d.step(true)
	}
	for i := range 20 {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(seq), Timestamp: uint32((110 + i) * 960), SSRC: 1,
			Payload: fakePayload(10+i, 960, false)}, time.Millisecond)
		seq++
		d.step(true)
	}
	st := d.b.Stats()
	if events != 100 || st.Restarts != 0 || st.Overflow != 0 || st.Lost != 0 || st.Played < 28 {
		t.Errorf("%d events, stats %+v", events, st)
	}
}

func TestActivityLevels(t *testing.T) {
	d := newDriver(t, Config{})
	// RFC 6464 levels from the leg pass through, with the voice flag.
	for i := range 5 {
		d.pushPacket(Packet{PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 1,
			Payload: fakePayload(i, 960, false), HasLevel: true, Level: -30, Voice: true}, time.Millisecond)
		d.tick++
		a := d.b.Advance(d.at(0))
		if !a.Present || !a.LevelKnown || a.Level != -30 || !a.Voice {
			t.Fatalf("tick %d: %+v", i, a)
		}
	}
	// Without the extension an Opus packet's level is unknown: the mixer must decode it.
	d.pushPacket(Packet{PayloadType: 111, SequenceNumber: 5, Timestamp: 5 * 960, SSRC: 1, Payload: fakePayload(5, 960, false)}, time.Millisecond)
	d.tick++
	if a := d.b.Advance(d.at(0)); !a.Present || a.LevelKnown {
		t.Errorf("Opus without level: %+v", a)
	}
	// A G.711 payload's level is its energy (0xff is µ-law zero: digital silence).
	silence := make([]byte, fakePayloadLen)
	for j := range silence {
		silence[j] = 0xff
	}
	copy(silence, fakePayload(6, 960, false)[:11])
	d.pushPacket(Packet{PayloadType: 0, SequenceNumber: 6, Timestamp: 6 * 960, SSRC: 1, Payload: silence}, time.Millisecond)
	d.tick++
	if a := d.b.Advance(d.at(0)); !a.Present || !a.LevelKnown || a.Level != codec.G711Level(silence, codec.PCMU) {
		t.Errorf("PCMU: %+v, want level %d", a, codec.G711Level(silence, codec.PCMU))
	}
	// Nothing stored: nothing to play, and known to be silent.
	for range 10 {
		d.tick++
		d.b.Advance(d.at(0))
	}
	if a := d.b.Advance(d.at(0)); a.Present || !a.LevelKnown || a.Level != codec.Silence {
		t.Errorf("empty: %+v", a)
	}
}

func TestTargetStaysWithinMaxDelay(t *testing.T) {
	b, _ := newFakeBuffer(t, Config{MaxDelay: 100 * time.Millisecond})
	sim := simulate(t, b, network{seed: 11, base: 30 * time.Millisecond, jitter: uniformJitter(400 * time.Millisecond)}, 20*time.Second, 0)
	if worst := maxDuration(sim.targetAt, 0); worst > 100*time.Millisecond {
		t.Errorf("target up to %v with MaxDelay 100 ms", worst)
	}
	if worst := maxDuration(sim.delayAt[100:], 0); worst > 200*time.Millisecond {
		t.Errorf("delay up to %v with MaxDelay 100 ms", worst)
	}
	t.Logf("stats %+v", b.Stats())
}

func TestShrinkDropsSilenceFirst(t *testing.T) {
	// Start 200 ms late, then a calm network: the excess goes, voiced packets at most one per
	// 100 ms, and silent ones (RFC 6464 level -80 dBov) as soon as they come.
	d := newDriver(t, Config{StartDelay: 200 * time.Millisecond})
	const silentFrom, silentTo = 60, 80
	played := map[int16]bool{}
	for i := range 150 {
		p := Packet{PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 1,
			Payload: fakePayload(i, 960, false), HasLevel: true, Level: -20, Voice: true}
		if i >= silentFrom && i < silentTo {
			p.Level, p.Voice = -80, false
		}
		d.pushPacket(p, time.Millisecond)
		// The last sample tells the packet played: a dropped one is time-compressed away, which
		// fades it out at the start of the frame.
		if _, v, ok := d.step(true); ok && v > 0 {
			played[v-1] = true
		}
	}
	st := d.b.Stats()
	var voiced, silent int
	for i := int16(0); i < 140; i++ {
		if !played[i] {
			if i >= silentFrom && i < silentTo {
				silent++
			} else {
				voiced++
			}
		}
	}
	t.Logf("dropped %d voiced and %d silent packets; stats %+v", voiced, silent, st)
	if st.CurrentDelay > 20*time.Millisecond || int(st.Dropped) != voiced+silent {
		t.Errorf("stats %+v: the start-up excess was not dropped", st)
	}
	if silent < 2 || voiced > 8 {
		t.Errorf("dropped %d voiced and %d silent packets: silence should go first", voiced, silent)
	}
}
