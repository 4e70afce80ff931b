package jitter

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"confd/codec"
)

// fakeDecoder makes packets traceable: a fake payload names its packet index and duration, and
// decoding fills the PCM with index+1, so a test reads which packet played in which tick.
// Concealment plays concealValue and FEC recovery fecValue.
type fakeDecoder struct {
	codec         codec.Codec
	resets, plcs  int
	decodes, fecs int
}

const (
	fakePayloadLen = 16
	concealValue   = -1
	fecValue       = -2
	fakeFECFlag    = 1
)

// fakePayload returns the payload of packet index with samples of audio at 48 kHz.
func fakePayload(index, samples int, fec bool) []byte {
	p := make([]byte, fakePayloadLen)
	binary.BigEndian.PutUint32(p[4:], uint32(index))
	binary.BigEndian.PutUint16(p[8:], uint16(samples))
	if fec {
		p[10] = fakeFECFlag
	}
	p[0] = 0xfc // an Opus TOC of code 0 so that the payload never reads as DTX
	return p
}

// testEpoch is when the tests' streams start.
var testEpoch = time.Unix(1700000000, 0)

// tickTime is when tick i of a room falls, and packet i of a steady 20 ms stream is sent: i
// frames after testEpoch.
func tickTime(i int) time.Time { return testEpoch.Add(time.Duration(i) * codec.FrameDuration) }

// opusPacket is packet i of a steady stream of 20 ms Opus packets from ssrc: payload type 111,
// sequence number i, and 960 ticks of the 48 kHz clock per packet.
func opusPacket(ssrc uint32, i int, payload []byte) Packet {
	return Packet{PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: ssrc, Payload: payload}
}

func (d *fakeDecoder) Duration(p []byte) (int, error) {
	if len(p) < fakePayloadLen {
		return codec.OpusPacketSamples(p) // a real DTX frame
	}
	n := int(binary.BigEndian.Uint16(p[8:]))
	if n == 0 || n > codec.MaxPacketSamples {
		return 0, codec.ErrCorruptPayload
	}
	return n, nil
}

func (d *fakeDecoder) Decode(p []byte, pcm []int16) (int, error) {
	n, err := d.Duration(p)
	if err != nil || len(p) < fakePayloadLen {
		return 0, codec.ErrCorruptPayload
	}
	if len(pcm) < n {
		return 0, codec.ErrShortBuffer
	}
	v := int16(binary.BigEndian.Uint32(p[4:])%30000 + 1)
	for i := range pcm[:n] {
		pcm[i] = v
	}
	d.decodes++
	return n, nil
}

func (d *fakeDecoder) Conceal(pcm []int16) (int, error) {
	for i := range pcm {
		pcm[i] = concealValue
	}
	d.plcs++
	return len(pcm), nil
}

func (d *fakeDecoder) DecodeFEC(p []byte, pcm []int16) (int, error) {
	if len(p) < fakePayloadLen || p[10]&fakeFECFlag == 0 {
		return 0, codec.ErrNoFEC
	}
	for i := range pcm {
		pcm[i] = fecValue
	}
	d.fecs++
	return len(pcm), nil
}

func (d *fakeDecoder) Reset()             { d.resets++ }
func (d *fakeDecoder) Codec() codec.Codec { return d.codec }
func (d *fakeDecoder) String() string     { return "fake-dec" }

// newFakeBuffer returns a Buffer whose payload type 111 (Opus) and 0 (PCMU) decode with fake
// decoders, with 101 telephone-event and 13 comfort noise.
func newFakeBuffer(t testing.TB, cfg Config) (*Buffer, map[codec.Codec]*fakeDecoder) {
	t.Helper()
	decs := map[codec.Codec]*fakeDecoder{}
	cfg.NewDecoder = func(c codec.Codec) (codec.Decoder, error) {
		d := &fakeDecoder{codec: c}
		decs[c] = d
		return d, nil
	}
	if cfg.PayloadTypes == nil {
		cfg.PayloadTypes = []PayloadType{
			{Type: 111, Codec: codec.Opus},
			{Type: 0, Codec: codec.PCMU},
			{Type: 101, Kind: TelephoneEvent, ClockRate: 48000},
			{Type: 13, Kind: ComfortNoise},
		}
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, decs
}

// network describes the simulated path from a sender of fake Opus packets to the buffer.
type network struct {
	seed      uint64
	ptime     time.Duration // packet time, 20 ms when zero
	base      time.Duration // one-way delay of the fastest packet
	jitter    func(send time.Duration, r *rand.Rand) time.Duration
	loss      float64 // independent random loss
	burst     float64 // chance that a packet starts a burst of 2 to burstMax lost packets
	burstMax  int
	drift     float64 // sender clock error: its 20 ms last 20·(1+drift) ms of ours
	duplicate float64
	fec       bool // packets carry FEC for the one before
}

// uniformJitter returns a jitter of uniform extra delay in [0, max).
func uniformJitter(maxJitter time.Duration) func(time.Duration, *rand.Rand) time.Duration {
	return func(_ time.Duration, r *rand.Rand) time.Duration {
		return time.Duration(r.Int64N(int64(maxJitter)))
	}
}

// arrival is one packet delivered by the network.
type arrival struct {
	at    time.Duration
	index int
	pkt   Packet
}

// simulation is the record of one run.
type simulation struct {
	arrivals  []time.Duration // per packet index: first arrival, or -1 when lost
	lost      int             // packets the network lost
	delays    []time.Duration // per played packet: tick time minus arrival
	delayAt   []time.Duration // per tick: Stats().CurrentDelay
	targetAt  []time.Duration // per tick: Stats().TargetDelay
	stalls    int             // ticks without audio after the first audio, while packets flow
	values    [][2]int16      // per tick: first and last sample
	started   bool
	firstPlay int // tick of the first audio
}

// simulate sends packets for dur over nw into b, ticking every 20 ms at phase past the send
// clock, and calls Read on every tick.
func simulate(t testing.TB, b *Buffer, nw network, dur, phase time.Duration) *simulation {
	t.Helper()
	r := rand.New(rand.NewPCG(nw.seed, 0x5eed))
	ptime := nw.ptime
	if ptime == 0 {
		ptime = 20 * time.Millisecond
	}
	samples := int(ptime / (time.Second / codec.SampleRate))
	count := int(dur / ptime)
	sim := &simulation{arrivals: make([]time.Duration, count)}
	var arrivals []arrival
	burstLeft, inBurst := 0, false
	for i := range count {
		send := time.Duration(float64(time.Duration(i)*ptime) * (1 + nw.drift))
		sim.arrivals[i] = -1
		if !inBurst && nw.burst > 0 && r.Float64() < nw.burst {
			burstLeft, inBurst = 2+r.IntN(nw.burstMax-1), true
		}
		if burstLeft > 0 {
			burstLeft--
			sim.lost++
			continue
		}
		inBurst = false // a burst ends with a packet that gets through
		if r.Float64() < nw.loss {
			sim.lost++
			continue
		}
		d := nw.base
		if nw.jitter != nil {
			d += nw.jitter(send, r)
		}
		p := Packet{PayloadType: 111, SequenceNumber: uint16(65000 + i), Timestamp: uint32(4294000000 + i*samples),
			SSRC: 0x1234, Payload: fakePayload(i, samples, nw.fec)}
		arrivals = append(arrivals, arrival{at: send + d, index: i, pkt: p})
		if r.Float64() < nw.duplicate {
			arrivals = append(arrivals, arrival{at: send + d + time.Duration(r.Int64N(int64(40*time.Millisecond))), index: i, pkt: p})
		}
	}
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return int(a.at - b.at) })
	epoch := time.Unix(1700000000, 0)
	var f codec.Frame
	next := 0
	lastIndex := -1
	for tick := 0; ; tick++ {
		now := time.Duration(tick)*codec.FrameDuration + phase
		if now > dur+nw.base+500*time.Millisecond {
			break
		}
		for ; next < len(arrivals) && arrivals[next].at <= now; next++ {
			a := arrivals[next]
			if sim.arrivals[a.index] < 0 {
				sim.arrivals[a.index] = a.at
			}
			if err := b.Push(a.pkt, epoch.Add(a.at)); err != nil {
				t.Fatalf("push %d: %v", a.index, err)
			}
		}
		b.Advance(epoch.Add(now))
		ok := b.Read(&f)
		sim.values = append(sim.values, [2]int16{f[0], f[codec.FrameSamples-1]})
		st := b.Stats()
		sim.delayAt = append(sim.delayAt, st.CurrentDelay)
		sim.targetAt = append(sim.targetAt, st.TargetDelay)
		if ok && !sim.started {
			sim.started, sim.firstPlay = true, tick
		}
		if sim.started && !ok && now < dur {
			sim.stalls++
		}
		// The packet is told by a sample after the cross-fade that time compression puts at
		// the start of a frame (accelerate.go), which shows the dropped packet fading out.
		if ok && f[fadeSamples] > 0 {
			idx := int(f[fadeSamples]) - 1
			if idx != lastIndex && idx < count && sim.arrivals[idx] >= 0 {
				sim.delays = append(sim.delays, now-sim.arrivals[idx])
			}
			lastIndex = idx
		}
	}
	return sim
}

// maxDuration returns the largest of ds after skipping the first skip entries.
func maxDuration(ds []time.Duration, skip int) time.Duration {
	var m time.Duration
	for _, d := range ds[min(skip, len(ds)):] {
		m = max(m, d)
	}
	return m
}

// assertNoGaps fails unless every tick from the first audio until the stream's end held audio
// (a packet or a concealment) and none was silent.
func (sim *simulation) assertNoGaps(t *testing.T) {
	t.Helper()
	if sim.stalls != 0 {
		t.Errorf("%d ticks without audio while packets flowed", sim.stalls)
	}
	for i := sim.firstPlay; i < len(sim.values)-30; i++ {
		if sim.values[i][0] == 0 || sim.values[i][1] == 0 {
			t.Fatalf("tick %d played silence inside the stream: %v", i, sim.values[i])
		}
	}
}
