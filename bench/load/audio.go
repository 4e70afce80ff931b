package load

import (
	"fmt"
	"slices"
	"time"

	"confd/bench"
	"confd/codec"
	"confd/testkit/audiotest"
)

// The talkers' schedule: a cycle of burstCycle in which talker k sends its tone for burstLength
// from k·burstSpacing on and is silent otherwise. The talkers take turns, so the room's mix
// has one onset every burstSpacing and each belongs to exactly one talker, and every burst
// follows at least burstSpacing − burstLength of room silence (enough for the onset detector's
// quiet time); each talker is silent for 500 ms between its bursts, long enough for Opus DTX
// and the mixer's talker hold to end.
const (
	burstCycle   = 600 * time.Millisecond
	burstSpacing = 200 * time.Millisecond
	burstLength  = 100 * time.Millisecond
	cycleFrames  = int(burstCycle / codec.FrameDuration)
)

// Onset detection on decoded audio: a sample reaching onsetThreshold (a tenth, -20 dB, of a
// talker's tone amplitude) after at least onsetQuiet below it. onsetQuiet is shorter than the
// 100 ms gap between bursts, to leave room for codec ringing at a burst's end.
const (
	onsetThreshold int16 = 491 // bench.ToneAmplitude · 32767 / 10
	onsetQuiet           = 60 * time.Millisecond
)

// talkerRecording is one talker's pre-encoded stream: its tone burst at k·burstSpacing of
// every cycle, and where the onset lies in the stream as it decodes (the talker codec's own
// encode→decode path, which the latency figure leaves out).
type talkerRecording struct {
	talker bench.Talker
	rec    *bench.Recording
	// onsetFrame is the recording frame whose decoded audio holds the onset, onsetOffset the
	// onset's position in that frame.
	onsetFrame  int
	onsetOffset time.Duration
}

// newTalkerRecording records talker k's cycle with the real encoder of its format and finds
// its onset by decoding the recording twice over (so that the decoder has the state it has in
// a looping stream) with a fresh decoder.
func newTalkerRecording(k int, t bench.Talker) (*talkerRecording, error) {
	tone := audiotest.NewTone(t.Freq, bench.ToneAmplitude, codec.SampleRate)
	cycle := samples(burstCycle)
	start, length := samples(time.Duration(k)*burstSpacing), samples(burstLength)
	pos := 0
	capture := func(pcm []int16) {
		for i := range pcm {
			x := (pos - start + cycle) % cycle
			switch {
			case x == 0:
				tone.Reset()
				tone.Fill(pcm[i : i+1])
			case x < length:
				tone.Fill(pcm[i : i+1])
			default:
				pcm[i] = 0
			}
			pos++
		}
	}
	// One cycle of preroll warms the encoder up and keeps the recording aligned to the cycle.
	rec, err := bench.Record(t.Format, cycleFrames, cycleFrames, capture)
	if err != nil {
		return nil, err
	}
	dec, err := codec.NewDecoder(t.Format.Codec)
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, 2*cycleFrames*codec.FrameSamples)
	for i := range 2 * cycleFrames {
		p := rec.Payload(i)
		if p == nil {
			continue // DTX: nothing sent, silence
		}
		if _, err := dec.Decode(p, pcm[i*codec.FrameSamples:]); err != nil {
			return nil, fmt.Errorf("load: decoding the %v talker: %w", t.Format, err)
		}
	}
	var d onsetDetector
	t0 := time.Unix(0, 0)
	d.feed(pcm, t0)
	for _, o := range d.onsets {
		s := int(o.Sub(t0) * codec.SampleRate / time.Second)
		if s < cycleFrames*codec.FrameSamples {
			continue // the first pass: the decoder's own start
		}
		frame := s/codec.FrameSamples - cycleFrames
		return &talkerRecording{talker: t, rec: rec, onsetFrame: frame,
			onsetOffset: sampleTime(s % codec.FrameSamples)}, nil
	}
	return nil, fmt.Errorf("load: no onset in the %v Hz talker's decoded recording", t.Freq)
}

// onsetDetector finds onsets in decoded audio laid on a timeline: each packet's samples start
// at the packet's arrival time, and a gap with no packets (DTX) counts as quiet.
type onsetDetector struct {
	lastLoud time.Time
	onsets   []time.Time
	packets  []time.Time // the arrival time of the packet that carries each onset
}

// feed adds decoded samples that start at t.
func (d *onsetDetector) feed(pcm []int16, t time.Time) {
	for j, s := range pcm {
		if s < onsetThreshold && s > -onsetThreshold {
			continue
		}
		at := t.Add(sampleTime(j))
		if d.lastLoud.IsZero() || at.Sub(d.lastLoud) > onsetQuiet {
			d.onsets = append(d.onsets, at)
			d.packets = append(d.packets, t)
		}
		d.lastLoud = at
	}
}

// talkerOnset is one onset as the talker sent it: at is the onset's time, sent the time its
// packet was handed to the kernel.
type talkerOnset struct {
	at, sent time.Time
	talker   int
}

// matchOnsets pairs every heard onset with the last sent onset before it (at most
// burstSpacing − burstLength earlier, so that a burst is never paired with the one before)
// and returns the latencies, which sent onsets were heard, and each pair (indices into sent and
// heard).
func matchOnsets(sent []talkerOnset, heard []time.Time) (lat []time.Duration, matched []bool, pairs [][2]int) {
	matched = make([]bool, len(sent))
	for k, h := range heard {
		i, _ := slices.BinarySearchFunc(sent, h, func(o talkerOnset, t time.Time) int { return o.at.Compare(t) })
		i--
		if i < 0 || matched[i] || h.Sub(sent[i].at) > burstSpacing-burstLength/2 {
			continue
		}
		matched[i] = true
		lat = append(lat, h.Sub(sent[i].at))
		pairs = append(pairs, [2]int{i, k})
	}
	return lat, matched, pairs
}

func samples(d time.Duration) int { return int(d * codec.SampleRate / time.Second) }

func sampleTime(n int) time.Duration { return time.Duration(n) * time.Second / codec.SampleRate }
