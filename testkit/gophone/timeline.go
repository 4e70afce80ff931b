package gophone

import (
	"slices"
	"sync"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// maxTimeline bounds a Timeline's memory: two minutes at codec.SampleRate (11.5 MB). Audio
// that would land later is dropped; a test call is much shorter.
const maxTimeline = 120 * codec.SampleRate

// reanchorAfter is how far a packet's place by RTP timestamp may stray from its place by
// arrival time before the Timeline trusts the arrival instead: a new SSRC, a timestamp jump,
// or a sender that stopped and restarted its clock (RFC 3550 section 5.1 lets it start
// anywhere). Loopback jitter is far below it.
const reanchorAfter = 200 * time.Millisecond

// Timeline is received audio laid out on the wall clock: sample i of its PCM (mono,
// codec.SampleRate) is what was heard at Start plus i samples. Packets are placed by their RTP
// timestamp relative to an anchor packet, so that a tone keeps its phase across packets however
// they were delayed on the way, and the anchor is the first packet's arrival time. Stretches
// where nothing arrived (DTX, a silent group, loss) stay zero: silence. It is safe for
// concurrent use: one goroutine adds while a test reads windows.
type Timeline struct {
	mu    sync.Mutex
	start time.Time
	pcm   []int16
	got   []bool // got[i]: sample i came in a packet, not from a gap

	anchored  bool
	ssrc      uint32
	anchorTS  uint32
	anchorIdx int
	clock     int
}

// NewTimeline returns an empty Timeline whose sample 0 is at start.
func NewTimeline(start time.Time) *Timeline {
	return &Timeline{start: start, pcm: make([]int16, 0, 10*codec.SampleRate), got: make([]bool, 0, 10*codec.SampleRate)}
}

// Start returns the instant of sample 0.
func (t *Timeline) Start() time.Time { return t.start }

// index returns the sample index of instant at, which may be negative or past the end.
func (t *Timeline) index(at time.Time) int {
	return int(at.Sub(t.start) * codec.SampleRate / time.Second)
}

// Add places pcm (mono, codec.SampleRate), decoded from the RTP packet with ssrc and timestamp
// ts at an RTP clock of clockRate Hz that arrived at arrival.
func (t *Timeline) Add(arrival time.Time, ssrc, ts uint32, clockRate int, pcm []int16) {
	t.mu.Lock()
	defer t.mu.Unlock()
	arrivalIdx := t.index(arrival)
	idx := arrivalIdx
	if t.anchored && ssrc == t.ssrc && clockRate == t.clock {
		idx = t.anchorIdx + int(int64(int32(ts-t.anchorTS))*codec.SampleRate/int64(clockRate))
	}
	if d := idx - arrivalIdx; !t.anchored || d > samplesIn(reanchorAfter) || d < -samplesIn(reanchorAfter) {
		t.anchored, t.ssrc, t.anchorTS, t.anchorIdx, t.clock = true, ssrc, ts, arrivalIdx, clockRate
		idx = arrivalIdx
	}
	if idx < 0 || idx+len(pcm) > maxTimeline {
		return
	}
	if end := idx + len(pcm); end > len(t.pcm) {
		t.got = append(t.got, make([]bool, end-len(t.pcm))...)
		t.pcm = append(t.pcm, make([]int16, end-len(t.pcm))...)
	}
	copy(t.pcm[idx:], pcm)
	for i := range pcm {
		t.got[idx+i] = true
	}
}

// Window returns a copy of what was heard from from to to: (to-from) at codec.SampleRate,
// zero where nothing arrived.
func (t *Timeline) Window(from, to time.Time) []int16 {
	t.mu.Lock()
	defer t.mu.Unlock()
	lo, hi := t.index(from), t.index(to)
	if hi <= lo {
		return nil
	}
	out := make([]int16, hi-lo)
	for i := max(lo, 0); i < min(hi, len(t.pcm)); i++ {
		out[i-lo] = t.pcm[i]
	}
	return out
}

// Coverage returns the fraction of the samples from from to to that came in packets.
func (t *Timeline) Coverage(from, to time.Time) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	lo, hi := t.index(from), t.index(to)
	if hi <= lo {
		return 0
	}
	n := 0
	for i := max(lo, 0); i < min(hi, len(t.got)); i++ {
		if t.got[i] {
			n++
		}
	}
	return float64(n) / float64(hi-lo)
}

// LevelChunk is the length of the pieces Level measures: audiotest.MedianToneLevel's, long
// enough to resolve tones 100 Hz apart, short enough that a stall leaves most pieces whole.
const LevelChunk = audiotest.LevelChunk

// MinChunkCoverage is how much of a piece must have arrived for Level to measure it: the piece
// arrived whole.
const MinChunkCoverage = 0.9

// Silent is the level Level reports when nothing at all was received: below any tone.
const Silent = -200.0

// Level returns the level in dBFS of the tone at freqHz heard from from to to: the median of
// audiotest.ToneLevel over the LevelChunk pieces of the span that arrived (90% of their
// samples or more), so that a packet gap, or a stall of a starved process on a busy machine,
// neither lowers the level nor smears the spectrum. A span where no piece arrived (Opus DTX:
// confd sends silence as a packet every 400 ms) is Silent.
func (t *Timeline) Level(from, to time.Time, freqHz float64) float64 {
	var levels []float64
	for at := from; !at.Add(LevelChunk).After(to); at = at.Add(LevelChunk) {
		if t.Coverage(at, at.Add(LevelChunk)) >= MinChunkCoverage {
			levels = append(levels, audiotest.ToneLevel(t.Window(at, at.Add(LevelChunk)), codec.SampleRate, freqHz))
		}
	}
	if len(levels) == 0 {
		return Silent
	}
	slices.Sort(levels)
	return levels[len(levels)/2]
}

// samplesIn returns the number of samples at codec.SampleRate in d.
func samplesIn(d time.Duration) int { return int(d * codec.SampleRate / time.Second) }
