package bench

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"confd/codec"
	"confd/jitter"
	"confd/mixer"
	"confd/testkit/audiotest"
)

// LatencyConfig describes a latency measurement: one talker whose tone bursts cross the network,
// a jitter buffer and the mixer to one listener on the same codec. Every zero value is a
// documented default.
type LatencyConfig struct {
	// Codec is the talker's and the listener's codec. Zero means Opus.
	Codec codec.Codec
	// Jitter is the width of the network's uniform jitter: each packet arrives after its send
	// time plus a delay drawn uniformly from [0, Jitter). Zero is a clean network.
	Jitter time.Duration
	// Sessions is the number of independent sessions, each with its own random phase between
	// the talker's packets and the mixer's tick. Zero means 24.
	Sessions int
	// Duration is the length of one session. Zero means 3 s.
	Duration time.Duration
	// Warmup is how long into a session onsets are not counted, while the jitter buffer leaves
	// its start delay (jitter.DefaultStartDelay) for the delay it measures. Zero means 1.5 s.
	Warmup time.Duration
	// Seed seeds the phases, the jitter and the burst schedule.
	Seed uint64
}

// Burst schedule of the talker: a tone of burstFreq at burstAmplitude for burstLength, starting
// every 270 to 330 ms (drawn uniformly), so that every burst is an onset after a silence long
// enough for the mixer's hold to end and Opus to go into DTX.
const (
	burstFreq      = 700
	burstAmplitude = 0.25
	burstLength    = 100 * time.Millisecond
	burstMinPeriod = 270 * time.Millisecond
	burstMaxPeriod = 330 * time.Millisecond
)

// onsetThreshold is the envelope threshold of an onset, a tenth (-20 dB) of the bursts'
// amplitude; onsetQuiet is how long the signal must have stayed under it before.
const (
	onsetThreshold int16 = 819 // burstAmplitude · 32767 / 10
	onsetQuiet           = 100 * time.Millisecond
)

// LatencyResult is what MeasureLatency found.
type LatencyResult struct {
	// Latencies holds, sorted, one figure per onset: the time from the arrival of the packet
	// carrying the onset to the moment the listener's output frame carrying it leaves the mixer
	// (the tick time), each taken at the onset's sample within its packet and its frame, as
	// found on decoded audio. It includes the codec delays of the re-encode (CodecDelay).
	Latencies []time.Duration
	// CodecDelay is the part of every figure that the codecs add rather than the buffer and the
	// tick: the Opus encoder's look-ahead (OpusLookahead), or on a G.711 path the bridge's two
	// resamplers (codec.Resampler.Delay of 8→48 kHz on the way in and of 48→8 kHz on the way
	// out).
	CodecDelay time.Duration
	// Onsets counts the onsets sent after the warm-up; Missed those not found in what the
	// listener heard.
	Onsets, Missed int
}

// Quantile returns the q-quantile (0 to 1) of the latencies, nearest rank; 0 when there are none.
func (r LatencyResult) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// MeasureLatency simulates cfg.Sessions sessions and returns every onset's latency through the
// pipeline. Nothing is bookkept: onsets are found with an envelope threshold on the talker's
// stream decoded as the bridge decodes it (where the onset enters) and on the listener's stream
// decoded as its phone would (where it leaves), and each output onset is paired with the last
// input onset before it.
func MeasureLatency(cfg LatencyConfig) (LatencyResult, error) {
	cfg.Codec = cmp.Or(cfg.Codec, codec.Opus)
	cfg.Sessions = cmp.Or(cfg.Sessions, 24)
	cfg.Duration = cmp.Or(cfg.Duration, 3*time.Second)
	cfg.Warmup = cmp.Or(cfg.Warmup, 1500*time.Millisecond)
	var res LatencyResult
	var err error
	if res.CodecDelay, err = codecDelay(cfg.Codec); err != nil {
		return res, err
	}
	for s := range cfg.Sessions {
		if err := measureSession(cfg, uint64(s), &res); err != nil {
			return res, err
		}
	}
	slices.Sort(res.Latencies)
	return res, nil
}

// codecDelay returns the delay the bridge's own codec stages add on a path of c.
func codecDelay(c codec.Codec) (time.Duration, error) {
	if c == codec.Opus {
		return OpusLookahead()
	}
	in, err := codec.NewResampler(c.AudioRate(), codec.SampleRate)
	if err != nil {
		return 0, err
	}
	out, err := codec.NewResampler(codec.SampleRate, c.AudioRate())
	if err != nil {
		return 0, err
	}
	return time.Duration(in.Delay())*time.Second/time.Duration(in.OutRate()) +
		time.Duration(out.Delay())*time.Second/time.Duration(out.OutRate()), nil
}

// sentPacket is one talker packet on its way.
type sentPacket struct {
	frame   int // index of the 20 ms frame it carries
	arrival time.Time
	packet  jitter.Packet
}

// measureSession runs one session and appends its latencies to res.
func measureSession(cfg LatencyConfig, session uint64, res *LatencyResult) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, session))
	frames := int(cfg.Duration / codec.FrameDuration)
	f := codec.Format{Codec: cfg.Codec}
	enc, err := codec.NewEncoder(f)
	if err != nil {
		return err
	}
	refDec, err := codec.NewDecoder(cfg.Codec)
	if err != nil {
		return err
	}
	outDec, err := codec.NewDecoder(cfg.Codec)
	if err != nil {
		return err
	}
	buf, err := jitter.New(jitter.Config{})
	if err != nil {
		return err
	}
	mix := mixer.New(mixer.Config{})
	const talker, listener = 1, 2
	if err := mix.Add(talker, mixer.ParticipantConfig{Source: buf, Format: f}); err != nil {
		return err
	}
	if err := mix.Add(listener, mixer.ParticipantConfig{Format: f}); err != nil {
		return err
	}

	// The talker: capture, encode and send every frame; decode what it sent as the reference.
	t0 := time.Unix(1_000_000, 0)
	phase := time.Duration(rng.Int64N(int64(codec.FrameDuration)))
	capture := burstCapture(rng)
	ref := make([]int16, frames*codec.FrameSamples)
	var pcm codec.Frame
	payload := make([]byte, codec.MaxPayloadSize)
	packets := make([]sentPacket, 0, frames)
	client := &Client{ssrc: rng.Uint32(), step: uint32(cfg.Codec.ClockRate() / 50)}
	for i := range frames {
		capture(pcm[:])
		n, err := enc.Encode(pcm[:], payload)
		if err != nil {
			return err
		}
		if n == 0 { // DTX: nothing sent, silence in the reference
			client.ts += client.step
			client.sentLast = false
			continue
		}
		if _, err := refDec.Decode(payload[:n], ref[i*codec.FrameSamples:]); err != nil {
			return err
		}
		p := jitter.Packet{PayloadType: PayloadTypeOf(cfg.Codec), SequenceNumber: client.seq,
			Timestamp: client.ts, Marker: !client.sentLast, SSRC: client.ssrc,
			Payload: append([]byte(nil), payload[:n]...)}
		client.seq++
		client.ts += client.step
		client.sentLast = true
		sent := t0.Add(phase + time.Duration(i+1)*codec.FrameDuration)
		var delay time.Duration
		if cfg.Jitter > 0 {
			delay = time.Duration(rng.Int64N(int64(cfg.Jitter)))
		}
		packets = append(packets, sentPacket{frame: i, arrival: sent.Add(delay), packet: p})
	}
	arrival := make([]time.Time, frames) // by frame, for the latency of each onset
	for _, p := range packets {
		arrival[p.frame] = p.arrival
	}
	slices.SortStableFunc(packets, func(a, b sentPacket) int { return a.arrival.Compare(b.arrival) })

	// The bridge and the listener: tick k at t0 + k·20 ms; its output frame is out[k].
	ticks := frames + 10
	out := make([]int16, ticks*codec.FrameSamples)
	var dec [codec.MaxPacketSamples]int16
	next := 0
	for k := range ticks {
		now := t0.Add(time.Duration(k) * codec.FrameDuration)
		for ; next < len(packets) && !packets[next].arrival.After(now); next++ {
			if err := buf.Push(packets[next].packet, packets[next].arrival); err != nil {
				return err
			}
		}
		mix.Tick(now)
		o := mix.Output(listener)
		if !o.Due || o.Payload == nil {
			continue // DTX: the phone plays silence (or comfort noise, far below the threshold)
		}
		n, err := outDec.Decode(o.Payload, dec[:])
		if err != nil {
			return err
		}
		copy(out[k*codec.FrameSamples:], dec[:n])
	}

	// Onsets in, onsets out, paired.
	warm := int(cfg.Warmup / codec.FrameDuration * codec.FrameSamples)
	var in []time.Time
	for _, s := range findOnsets(ref) {
		if s < warm {
			continue
		}
		frame, x := s/codec.FrameSamples, s%codec.FrameSamples
		if arrival[frame].IsZero() {
			return fmt.Errorf("bench: onset at sample %d lies in a frame that was not sent", s)
		}
		in = append(in, arrival[frame].Add(samplesDuration(x)))
	}
	res.Onsets += len(in)
	matched := make([]bool, len(in))
	for _, j := range findOnsets(out) {
		tOut := t0.Add(samplesDuration(j))
		i, _ := slices.BinarySearchFunc(in, tOut, func(a, b time.Time) int { return a.Compare(b) })
		i-- // the last input onset at or before tOut
		if i < 0 || matched[i] || tOut.Sub(in[i]) > burstMinPeriod {
			continue
		}
		matched[i] = true
		res.Latencies = append(res.Latencies, tOut.Sub(in[i]))
	}
	for _, m := range matched {
		if !m {
			res.Missed++
		}
	}
	return nil
}

// burstCapture returns the talker's microphone: bursts of a tone after silences, on the
// schedule the burst constants give.
func burstCapture(rng *rand.Rand) func(pcm []int16) {
	tone := audiotest.NewTone(burstFreq, burstAmplitude, codec.SampleRate)
	pos, nextOnset, burstEnd := 0, samplesOf(200*time.Millisecond), 0
	period := func() int {
		return samplesOf(burstMinPeriod) + rng.IntN(samplesOf(burstMaxPeriod-burstMinPeriod))
	}
	return func(pcm []int16) {
		for i := range pcm {
			if pos == nextOnset {
				tone.Reset()
				burstEnd = pos + samplesOf(burstLength)
				nextOnset += period()
			}
			if pos < burstEnd {
				tone.Fill(pcm[i : i+1])
			} else {
				pcm[i] = 0
			}
			pos++
		}
	}
}

// findOnsets returns the indices where |pcm| first reaches onsetThreshold after at least
// onsetQuiet below it.
func findOnsets(pcm []int16) []int {
	var onsets []int
	quiet := samplesOf(onsetQuiet)
	last := -quiet - 1
	for i, s := range pcm {
		if s < onsetThreshold && s > -onsetThreshold {
			continue
		}
		if i-last > quiet {
			onsets = append(onsets, i)
		}
		last = i
	}
	return onsets
}

func samplesOf(d time.Duration) int { return int(d * codec.SampleRate / time.Second) }

func samplesDuration(n int) time.Duration {
	return time.Duration(n) * time.Second / codec.SampleRate
}
