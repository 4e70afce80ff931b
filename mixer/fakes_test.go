package mixer

import (
	"encoding/binary"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// toneSource is a participant that sends a sine, after a few ticks of silence (so its noise
// floor starts at the room's background, as a real microphone's does).
type toneSource struct {
	heldFrame
	tone      *audiotest.Tone
	known     bool // report the level as RFC 6464 metadata
	voiceFlag bool // set the RFC 6464 V flag
	quiet     int  // ticks of silence before the tone
	silent    bool // send nothing at all
	paused    bool // send silence instead of the tone
	ticks     int
}

func newTone(freq, amp float64, known bool) *toneSource {
	return &toneSource{tone: audiotest.NewTone(freq, amp, codec.SampleRate), known: known, quiet: 2}
}

func (s *toneSource) Advance(time.Time) codec.Activity {
	s.ticks++
	if s.silent {
		return codec.Activity{}
	}
	if s.ticks <= s.quiet || s.paused {
		s.frame.Clear()
	} else {
		s.tone.Fill(s.frame[:])
	}
	a := s.activity(s.known)
	if s.known {
		a.Voice = s.voiceFlag && a.Level > codec.Silence
	}
	return a
}

// noiseSource is a fan: steady white noise from the first tick.
type noiseSource struct {
	heldFrame
	amp   float64
	seed  uint32
	known bool
}

func (s *noiseSource) Advance(time.Time) codec.Activity {
	for i := range s.frame {
		s.seed = s.seed*1664525 + 1013904223
		s.frame[i] = int16(s.amp * float64(int32(s.seed)>>16))
	}
	return s.activity(s.known)
}

// heldFrame is the Read half of the fake sources: Advance fills frame, Read hands it out and
// counts the reads, so a test can tell which participants the mixer decoded.
type heldFrame struct {
	frame codec.Frame
	reads int
}

func (h *heldFrame) Read(f *codec.Frame) bool {
	h.reads++
	*f = h.frame
	return true
}

// activity is the Activity of a source that sends frame, with its level as RFC 6464 metadata
// when known.
func (h *heldFrame) activity(known bool) codec.Activity {
	a := codec.Activity{Present: true}
	if known {
		a.LevelKnown, a.Level = true, codec.LevelOf(h.frame[:])
	}
	return a
}

// fakeEncoder keeps the PCM it was given, and writes its own number and a counter as payload,
// so a test can tell which encoder a listener's payload came from and what it encoded. A silent
// packet is DTX (length 0) unless the Format says NoDTX.
type fakeEncoder struct {
	id     uint32
	format codec.Format
	pcm    []int16
	count  uint32
	resets int
}

func (e *fakeEncoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(pcm) != e.format.Samples()*e.format.Channels() {
		return 0, codec.ErrBadPacketSize
	}
	copy(e.pcm, pcm)
	e.count++
	silent := true
	for _, s := range pcm {
		if s != 0 {
			silent = false
			break
		}
	}
	if silent && !e.format.NoDTX {
		return 0, nil
	}
	binary.BigEndian.PutUint32(dst, e.id)
	binary.BigEndian.PutUint32(dst[4:], e.count)
	return 8, nil
}

func (e *fakeEncoder) SetExpectedLoss(int) error { return nil }
func (e *fakeEncoder) Format() codec.Format      { return e.format }
func (e *fakeEncoder) Reset()                    { e.resets++ }
func (e *fakeEncoder) String() string            { return "fake-enc(" + e.format.String() + ")" }

type fakeFactory struct{ encoders []*fakeEncoder }

func (f *fakeFactory) New(fm codec.Format) (codec.Encoder, error) {
	if err := fm.Validate(); err != nil {
		return nil, err
	}
	fm = fm.Normalized()
	e := &fakeEncoder{id: uint32(len(f.encoders)), format: fm, pcm: make([]int16, fm.Samples()*fm.Channels())}
	f.encoders = append(f.encoders, e)
	return e, nil
}

// decode returns the PCM behind a payload (silence for DTX), or nil when nothing was due.
func (f *fakeFactory) decode(out Output, samples int) []int16 {
	if !out.Due {
		return nil
	}
	if out.Payload == nil {
		return make([]int16, samples)
	}
	e := f.encoders[binary.BigEndian.Uint32(out.Payload)]
	return append([]int16(nil), e.pcm...)
}
