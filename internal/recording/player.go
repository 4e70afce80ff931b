package recording

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/mixer"
	"confd/prompts"
)

// Player plays 48 kHz mono PCM into a room as a mixer.Source: one 20 ms frame per tick, with its
// level known without decoding (so talker selection sees it at once), then silence. It allocates
// nothing per tick. Done is closed after the last frame has been played.
type Player struct {
	pcm  []int16
	pos  int // start of the next tick's frame
	cur  int // start of this tick's frame, or -1 when this tick has none
	done chan struct{}
	once sync.Once
}

// NewPlayer returns a Player of pcm (48 kHz mono, not modified; a prompt from confd/prompts
// fits as is).
func NewPlayer(pcm []int16) (*Player, error) {
	if len(pcm) == 0 {
		return nil, fmt.Errorf("%w: no samples", ErrBadAudio)
	}
	return &Player{pcm: pcm, cur: -1, done: make(chan struct{})}, nil
}

// NewPromptPlayer returns a Player of the named prompt of confd/prompts; an unknown name is
// ErrBadAudio that lists the prompts there are.
func NewPromptPlayer(name string) (*Player, error) {
	pcm, err := prompts.Get(name)
	if errors.Is(err, prompts.ErrUnknownPrompt) {
		return nil, fmt.Errorf("%w: %w (prompts: %s)", ErrBadAudio, err, strings.Join(prompts.Names(), ", "))
	}
	if err != nil {
		return nil, err
	}
	return NewPlayer(pcm)
}

// The limits of a tone: every Note, and the tone of POST /api/rooms/ROOM/play (openapi.json
// states them). The frequencies are those of human hearing; a tone is a signal, so a long
// one is a recording's job, not a player's.
const (
	MinToneHz       = 20
	MaxToneHz       = 20000
	MaxToneDuration = 10 * time.Second
)

// Note is one sine tone of a chime.
type Note struct {
	// Freq is the frequency in Hz (MinToneHz to MaxToneHz), Amplitude a share of full scale
	// (0 to 1].
	Freq, Amplitude float64
	// Duration is how long the note lasts (up to MaxToneDuration).
	Duration time.Duration
}

// check returns ErrBadAudio saying which limit n is outside, else nil.
func (n Note) check() error {
	switch {
	case !(n.Freq >= MinToneHz && n.Freq <= MaxToneHz): // NaN too
		return fmt.Errorf("%w: a tone of %g Hz: hz must be %d-%d", ErrBadAudio, n.Freq, MinToneHz, MaxToneHz)
	case !(n.Amplitude > 0 && n.Amplitude <= 1):
		return fmt.Errorf("%w: a tone at %g of full scale: the amplitude must be over 0 and at most 1", ErrBadAudio, n.Amplitude)
	case n.Duration <= 0 || n.Duration > MaxToneDuration:
		return fmt.Errorf("%w: a tone of %v: ms must be 1-%d", ErrBadAudio, n.Duration, MaxToneDuration.Milliseconds())
	}
	return nil
}

// NewTone returns a Player of one tone of hz for ms milliseconds at a quarter of full scale,
// the API's tone; outside the limits it is ErrBadAudio saying which.
func NewTone(hz float64, ms int) (*Player, error) {
	if ms < 1 || int64(ms) > MaxToneDuration.Milliseconds() { // before ms becomes a Duration, which could wrap
		return nil, fmt.Errorf("%w: a tone of %d ms: ms must be 1-%d", ErrBadAudio, ms, MaxToneDuration.Milliseconds())
	}
	return NewTonePlayer(Note{Freq: hz, Amplitude: 0.25, Duration: time.Duration(ms) * time.Millisecond})
}

// NewTonePlayer returns a Player of the notes in turn, each faded in and out over 5 ms so that
// it does not click.
func NewTonePlayer(notes ...Note) (*Player, error) {
	var pcm []int16
	for _, n := range notes {
		if err := n.check(); err != nil {
			return nil, err
		}
		count := int(n.Duration.Seconds() * codec.SampleRate)
		ramp := min(codec.SampleRate/200, count/2)
		for i := range count {
			g := 1.0
			if i < ramp {
				g = float64(i) / float64(ramp)
			} else if count-1-i < ramp {
				g = float64(count-1-i) / float64(ramp)
			}
			v := n.Amplitude * g * math.Sin(2*math.Pi*n.Freq*float64(i)/codec.SampleRate)
			pcm = append(pcm, int16(math.Round(v*32767)))
		}
	}
	return NewPlayer(pcm)
}

// EntryTone returns the chime played when someone joins: two rising notes.
func EntryTone() *Player {
	p, _ := NewTonePlayer(Note{Freq: 660, Amplitude: 0.2, Duration: 120 * time.Millisecond},
		Note{Freq: 880, Amplitude: 0.2, Duration: 180 * time.Millisecond})
	return p
}

// ExitTone returns the chime played when someone leaves: two falling notes.
func ExitTone() *Player {
	p, _ := NewTonePlayer(Note{Freq: 880, Amplitude: 0.2, Duration: 120 * time.Millisecond},
		Note{Freq: 660, Amplitude: 0.2, Duration: 180 * time.Millisecond})
	return p
}

// Duration returns how long the Player plays.
func (p *Player) Duration() time.Duration {
	return time.Duration(len(p.pcm)) * time.Second / codec.SampleRate
}

// Done is closed once the last frame has been played.
func (p *Player) Done() <-chan struct{} { return p.done }

// Advance implements mixer.Source: the tick's frame and its level, or nothing once played out.
func (p *Player) Advance(time.Time) codec.Activity {
	if p.pos >= len(p.pcm) {
		p.cur = -1
		p.once.Do(func() { close(p.done) })
		return codec.Activity{}
	}
	p.cur = p.pos
	p.pos += codec.FrameSamples
	end := min(p.cur+codec.FrameSamples, len(p.pcm))
	return codec.Activity{Present: true, LevelKnown: true, Level: codec.LevelOf(p.pcm[p.cur:end]), Voice: true}
}

// Read implements mixer.Source: it copies the tick's frame (the last one padded with silence).
func (p *Player) Read(f *codec.Frame) bool {
	if p.cur < 0 {
		return false
	}
	n := copy(f[:], p.pcm[p.cur:])
	clear(f[n:])
	return true
}

// SourceJoiner is the hook Play needs from the bridge: JoinSource joins a participant whose
// input is src instead of a jitter buffer of received RTP (info.Input empty, src non-nil).
// *bridge.Bridge is expected to implement it.
type SourceJoiner interface {
	JoinSource(room string, info bridge.ParticipantInfo, src mixer.Source, leg bridge.Leg) (*bridge.Participant, error)
}

// playerLeg is a player's side of the bridge: it hears nothing and hangs up by leaving.
type playerLeg struct{ stop chan struct{} }

func (playerLeg) SendRTP([]byte) {}

func (l playerLeg) Hangup(string) {
	select {
	case l.stop <- struct{}{}:
	default:
	}
}

// Play joins p to room as a participant of kind "player" that hears nothing, and has it leave
// when p has played out (or is hung up). It returns at once; the returned channel is closed when
// the player has left.
func Play(b *bridge.Bridge, room string, p *Player) (<-chan struct{}, error) {
	j, ok := any(b).(SourceJoiner)
	if !ok {
		return nil, ErrNoSourceJoin
	}
	leg := playerLeg{stop: make(chan struct{}, 1)}
	part, err := j.JoinSource(room, bridge.ParticipantInfo{Name: "player", Kind: bridge.KindPlayer}, p, leg)
	if err != nil {
		return nil, err
	}
	left := make(chan struct{})
	go func() {
		defer close(left)
		select {
		case <-p.Done():
			part.Leave("played")
		case <-leg.stop:
			part.Leave("stopped")
		}
	}()
	return left, nil
}
