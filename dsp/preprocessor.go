package dsp

/*
#cgo pkg-config: speexdsp
#include <speex/speex_preprocess.h>

// confd_pp_set_int wraps speex_preprocess_ctl, whose argument is a pointer: taking it here keeps Go
// from passing a pointer to a Go variable for every setting.
static int confd_pp_set_int(SpeexPreprocessState *st, int req, spx_int32_t v) { return speex_preprocess_ctl(st, req, &v); }
*/
import "C"

import (
	"cmp"
	"fmt"
	"sync/atomic"
	"unsafe"

	"confd/codec"
)

// Config says what a Preprocessor does. The zero Config does nothing; every other zero value is a
// documented default.
type Config struct {
	// Denoise suppresses stationary background noise (fans, hiss, road noise).
	Denoise bool
	// AGC brings the speech level towards AGCLevel: a quiet talker is raised by up to
	// MaxAGCGainDB, a loud one lowered. It adapts only while the frame is speech, so silence and
	// background noise are not pumped up.
	AGC bool
	// AGCLevel is the speech level AGC aims at, in dBov (the RMS of speech, the RFC 6464 scale
	// talker selection uses). Zero means DefaultAGCLevel; it must lie in MinAGCLevel..MaxAGCLevel.
	AGCLevel codec.Level
	// NoiseSuppressDB is the most the denoiser attenuates noise, in dB. Zero means
	// DefaultNoiseSuppressDB; at most MaxNoiseSuppressDB.
	NoiseSuppressDB int
}

const (
	// DefaultAGCLevel is the AGCLevel of a Config that names none: a usual level for speech on
	// a call, which leaves three talkers summed below the mixer's limiter (-6 dBFS).
	DefaultAGCLevel codec.Level = -20
	// MinAGCLevel and MaxAGCLevel are the quietest and the loudest AGCLevel a Config may ask for.
	MinAGCLevel codec.Level = -40
	MaxAGCLevel codec.Level = -1
	// DefaultNoiseSuppressDB is the NoiseSuppressDB of a Config that names none. speexdsp's own
	// default is 15 dB; with 25 dB the broadband noise between tone bursts came out 16.8 dB
	// (white) and 15.7 dB (pink) lower, against 12.8 and 13.3 dB with 15, the tone unchanged in
	// both (preprocessor_test.go's signals).
	DefaultNoiseSuppressDB = 25
	// MaxNoiseSuppressDB is the largest NoiseSuppressDB a Config may ask for (speexdsp's gain
	// floor): at 30 dB the noise came out only 1.2 dB lower than at 25, and a deeper floor only
	// makes the suppressor's residue ("musical noise") stand out more against the silence.
	MaxNoiseSuppressDB = 40
	// MaxAGCGainDB is the most AGC raises a talker (speexdsp's default is 30 dB): 20 dB lifts
	// a -40 dBov talker to the default level without making a distant room's murmur a voice.
	MaxAGCGainDB = 20
)

// Enabled reports whether c does anything: a participant whose Config is not enabled needs no
// Preprocessor at all.
func (c Config) Enabled() bool { return c.Denoise || c.AGC }

func (c Config) withDefaults() (Config, error) {
	c.AGCLevel = cmp.Or(c.AGCLevel, DefaultAGCLevel)
	c.NoiseSuppressDB = cmp.Or(c.NoiseSuppressDB, DefaultNoiseSuppressDB)
	if c.AGCLevel > MaxAGCLevel || c.AGCLevel < MinAGCLevel {
		return c, fmt.Errorf("%w: agc level %d dBov outside %d..%d", ErrBadConfig, c.AGCLevel, MinAGCLevel, MaxAGCLevel)
	}
	if c.NoiseSuppressDB < 0 || c.NoiseSuppressDB > MaxNoiseSuppressDB {
		return c, fmt.Errorf("%w: noise suppression %d dB outside 0-%d", ErrBadConfig, c.NoiseSuppressDB, MaxNoiseSuppressDB)
	}
	return c, nil
}

// subframe is how many samples speexdsp processes at a time: 10 ms at 48 kHz, two per mixer frame.
// Its analysis window is twice that (a 960-point FFT, 50 Hz bins) with half of it overlapping the
// previous call, which is also the delay it adds (see Process): a whole 20 ms frame at a time
// would double the delay and halve the time resolution of the suppression's gains.
const subframe = codec.FrameSamples / 2

// live counts the speexdsp states allocated and not yet freed, in the whole process.
var live atomic.Int64

// Live returns how many speexdsp states are allocated and not yet freed (by Close, or by SetConfig
// turning Denoise off): the tests' leak check, and a gauge for a process's metrics.
func Live() int64 { return live.Load() }

// Preprocessor is one participant's voice cleaner, working in place on 20 ms mono frames at
// 48 kHz: speexdsp's spectral noise suppressor (speex_preprocess.h) followed by an 80 Hz high-pass
// when Denoise is on, and a speech-gated automatic gain control (agc.go) when AGC is on. Its
// speexdsp state (about 70 kB of C memory: the RSS of 2,000 of them) exists only while Denoise is
// on: New or SetConfig allocates it, SetConfig turning Denoise off or Close frees it. It owns no
// goroutine, allocates nothing per frame, and is not safe for concurrent use: the room's goroutine
// owns it, as it owns the mixer.
//
// speexdsp's own AGC is not used: its speech probability reads broadband noise as speech (the a
// priori SNR of noise against its own estimate averages about 0.4, which its curve maps to a
// probability of 0.7, above its 0.5 threshold), so it raised a noise-only input by 9 dB in 10 s
// and would go on to its maximum gain (TestAGCLeavesNoiseAlone measures ours at 0 dB).
type Preprocessor struct {
	cfg     Config
	sp      *speexState // nil unless cfg.Denoise
	hp      highPass
	agc     agc
	primer  [subframe]int16 // zeros fed after a gap, written over by speexdsp
	resumes uint64
	silent  bool // the last frame was digital silence, left alone: the next one resumes
	closed  bool
}

// New returns a preprocessor doing what cfg says. It returns ErrBadConfig for a Config out of range
// and ErrInit when speexdsp fails to allocate.
func New(cfg Config) (*Preprocessor, error) {
	p := &Preprocessor{}
	p.hp = newHighPass(highPassHz)
	if err := p.SetConfig(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// SetConfig changes what the preprocessor does from the next frame on, keeping what it has learnt
// (the noise estimate while Denoise stays on, the AGC gain). Turning Denoise on allocates the
// speexdsp state, turning it off frees it. A Config out of range returns ErrBadConfig and changes
// nothing; a closed Preprocessor returns ErrClosed; ErrInit when speexdsp fails to allocate.
func (p *Preprocessor) SetConfig(cfg Config) error {
	c, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if p.closed {
		return ErrClosed
	}
	switch {
	case c.Denoise && p.sp == nil:
		if p.sp = newSpeex(codec.SampleRate); p.sp == nil {
			return ErrInit
		}
	case !c.Denoise && p.sp != nil:
		p.free()
	}
	if p.sp != nil {
		p.sp.setSuppression(c.NoiseSuppressDB)
	}
	p.agc.setLevel(c.AGCLevel)
	p.cfg = c
	return nil
}

// Config returns the configuration in use, defaults filled in.
func (p *Preprocessor) Config() Config { return p.cfg }

// Process cleans one frame in place. continues says that the previous frame of this participant
// went through Process in the previous tick; false after New and after any tick in which the
// participant was not mixed.
//
// speexdsp analyses 20 ms windows that overlap by half and adds the halves back together, so its
// output lags its input by one 10 ms subframe: the overlap it keeps holds the end of the last frame
// it saw. After a gap that end is stale (the close of a sentence seconds ago), so the first frame
// would begin with it. Process therefore first feeds the state 10 ms of silence, which flushes the
// overlap, and the frame comes out as 10 ms of silence followed by its first half: a talker that
// is mixed again fades in from silence (the mixer fades it in over the frame anyway) and never
// replays an old fragment. What the state has learnt, the noise estimate and the AGC gain, is
// kept across the gap: the same microphone in the same room, so a returning talker is cleaned at
// once at the right level. Resetting instead would make every talkspurt start unsuppressed while
// the noise estimate forms again, and from 0 dB of gain climbing at 12 dB/s; feeding every tick
// would decode every participant, which the mixer avoids (a silent room pays nothing).
//
// A frame of digital silence (all zeros: a lost packet the mixer filled with nothing, a phone that
// sends zeros while muted) is left as it is and counts as a gap. Fed to speexdsp, a run of zeros
// drags its noise estimate and the minima it tracks towards nothing, so that when the noise came
// back it was taken for speech and passed unsuppressed for up to a second; fed to the AGC, it
// would pull its noise floor to zero and make any noise speech.
func (p *Preprocessor) Process(f *codec.Frame, continues bool) {
	if *f == (codec.Frame{}) {
		p.silent = true
		return
	}
	if p.silent {
		continues, p.silent = false, false
	}
	if p.sp != nil {
		if !continues {
			clear(p.primer[:])
			p.sp.run(p.primer[:])
			p.hp.reset()
			p.resumes++
		}
		p.sp.run(f[:subframe])
		p.sp.run(f[subframe:])
		p.hp.process(f[:])
	}
	if p.cfg.AGC && !p.closed {
		p.agc.process(f)
	}
}

// GainDB returns the AGC's current gain in dB (0 when AGC is off).
func (p *Preprocessor) GainDB() float64 {
	if !p.cfg.AGC {
		return 0
	}
	return p.agc.gainDB()
}

// Resumes returns how many times Process flushed speexdsp's overlap after a gap (or at the first
// frame).
func (p *Preprocessor) Resumes() uint64 { return p.resumes }

// Close frees the speexdsp state. It is safe to call more than once; a closed Preprocessor's
// Process does nothing.
func (p *Preprocessor) Close() {
	p.free()
	p.closed = true
}

func (p *Preprocessor) free() {
	if p.sp != nil {
		p.sp.free()
		p.sp = nil
	}
}

// speexState is one speexdsp preprocessor state, set up as a denoiser only, for 10 ms frames.
type speexState struct {
	st *C.SpeexPreprocessState
	n  int // samples per run
}

// newSpeex allocates a denoiser for 10 ms frames at rate (48 kHz for a Preprocessor; the tests
// compare 16 kHz), or returns nil when speexdsp cannot.
func newSpeex(rate int) *speexState {
	n := rate / 100
	st := C.speex_preprocess_state_init(C.int(n), C.int(rate))
	if st == nil {
		return nil
	}
	live.Add(1)
	C.confd_pp_set_int(st, C.SPEEX_PREPROCESS_SET_DENOISE, 1)
	C.confd_pp_set_int(st, C.SPEEX_PREPROCESS_SET_AGC, 0)
	return &speexState{st: st, n: n}
}

func (s *speexState) setSuppression(db int) {
	C.confd_pp_set_int(s.st, C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, C.spx_int32_t(-db))
}

// run denoises one 10 ms frame in place; pcm must hold exactly s.n samples.
func (s *speexState) run(pcm []int16) {
	if len(pcm) != s.n {
		panic("dsp: speexdsp frame of the wrong size")
	}
	C.speex_preprocess_run(s.st, (*C.spx_int16_t)(unsafe.Pointer(&pcm[0])))
}

func (s *speexState) free() {
	C.speex_preprocess_state_destroy(s.st)
	live.Add(-1)
}

// String describes the preprocessor for printouts, e.g. "speexdsp denoise 25 dB, agc -20 dBov".
func (p *Preprocessor) String() string {
	s := "preprocessor"
	if p.cfg.Denoise {
		s += fmt.Sprintf(" speexdsp denoise %d dB", p.cfg.NoiseSuppressDB)
	}
	if p.cfg.AGC {
		s += fmt.Sprintf(" agc %d dBov", p.cfg.AGCLevel)
	}
	if p.closed {
		s += " (closed)"
	}
	return s
}
