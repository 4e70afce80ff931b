package bench

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"time"

	"confd/codec"
	"confd/jitter"
	"confd/mixer"
	"confd/testkit/audiotest"
)

// Talker is one participant who speaks for the whole run: a steady tone, so that every listener's
// audio can be checked with a frequency detector.
type Talker struct {
	// Freq is the tone's frequency in Hz.
	Freq float64
	// Format is what the talker's client sends and receives.
	Format codec.Format
}

// DefaultTalkers are the K = 3 talkers of the benchmark room: two browsers on Opus and a phone on
// PCMU, with tones inside G.711's band so that every listener can hear all three.
var DefaultTalkers = []Talker{
	{Freq: 440, Format: codec.Format{Codec: codec.Opus}},
	{Freq: 700, Format: codec.Format{Codec: codec.PCMU}},
	{Freq: 1000, Format: codec.Format{Codec: codec.Opus}},
}

// DefaultListenerFormats are the formats the listeners of the benchmark room take in turn: a
// browser (Opus) and a phone (PCMU).
var DefaultListenerFormats = []codec.Format{{Codec: codec.Opus}, {Codec: codec.PCMU}}

// ToneAmplitude is the amplitude of every talker's tone (0.15 of full scale, -16.5 dBFS), low
// enough that three tones summed stay below the mixer's limiter.
const ToneAmplitude = 0.15

// RoomConfig describes a simulated room. Every zero value is a documented default.
type RoomConfig struct {
	// Participants is the room's size N, talkers included. Zero means the talkers plus one
	// listener per listener format: the room whose cost is the fixed cost.
	Participants int
	// Talkers are the participants who speak. Nil means DefaultTalkers.
	Talkers []Talker
	// ListenerFormats are the formats listeners receive, given in turn. Nil means
	// DefaultListenerFormats. An Opus listener sends DTXRecording's stream (a silent or muted
	// browser); a G.711 listener sends near-silent noise at -70 dBFS (an open phone microphone).
	ListenerFormats []codec.Format
	// Distinct gives every listener a custom matrix row (a gain other than 1 on one talker), so
	// that every mix differs and every listener needs its own encode.
	Distinct bool
	// Seed seeds the arrival phases and recording offsets. Zero means 1.
	Seed uint64
}

// leg is one participant as the bridge sees it: its client's stream, its jitter buffer, and the
// RTP header writer of what it hears.
type leg struct {
	id     mixer.ID
	client *Client
	buf    *jitter.Buffer
	rtp    headerWriter
	phase  time.Duration // how long before a tick its packets arrive
	format codec.Format
}

// Room is a simulated conference: N clients sending RTP into N jitter buffers, one mixer, and N
// RTP header writers, run tick by tick in simulated time. It owns no goroutine: Push, Tick and
// Step run one phase of one tick each, so that a benchmark can time exactly what a room's
// goroutine and its legs' readers would do.
type Room struct {
	cfg     RoomConfig
	legs    []leg
	mix     *mixer.Mixer
	now     time.Time
	packet  []byte
	ticks   int
	pushed  uint64
	sent    uint64
	pushErr uint64
	monitor []*Monitor
}

// Monitor decodes what one participant hears, as its phone or browser would (codec.NewDecoder,
// concealing the ticks whose payload is DTX), for tone checks. It is not on any measured path.
type Monitor struct {
	// Index is the participant's index in the room (talkers first).
	Index int
	// PCM is everything heard so far at codec.SampleRate.
	PCM []int16
	dec codec.Decoder
	buf [codec.MaxPacketSamples]int16
}

// NewRoom builds the room: recordings, clients, jitter buffers, the mixer with every participant
// added and, for Distinct, every custom row set.
func NewRoom(cfg RoomConfig) (*Room, error) {
	if cfg.Talkers == nil {
		cfg.Talkers = DefaultTalkers
	}
	if cfg.ListenerFormats == nil {
		cfg.ListenerFormats = DefaultListenerFormats
	}
	if cfg.Participants == 0 {
		cfg.Participants = len(cfg.Talkers) + len(cfg.ListenerFormats)
	}
	cfg.Seed = cmp.Or(cfg.Seed, 1)
	if cfg.Participants < len(cfg.Talkers) {
		return nil, fmt.Errorf("bench: %d participants cannot hold %d talkers", cfg.Participants, len(cfg.Talkers))
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	r := &Room{cfg: cfg, mix: mixer.New(mixer.Config{TopK: len(cfg.Talkers)}), now: time.Unix(1_000_000, 0),
		packet: make([]byte, 12+codec.MaxPayloadSize)}
	// One recording per talker, one per listener format, shared by every client that plays it.
	recordings := make([]*Recording, 0, len(cfg.Talkers)+len(cfg.ListenerFormats))
	for _, t := range cfg.Talkers {
		// 50 ticks = 1 s: a tone of a whole number of hertz loops without a phase jump.
		rec, err := Record(t.Format, 50, 50, audiotest.NewTone(t.Freq, ToneAmplitude, codec.SampleRate).Fill)
		if err != nil {
			return nil, err
		}
		rec.WithLevel = t.Format.Codec == codec.Opus // browsers send RFC 6464 levels
		recordings = append(recordings, rec)
	}
	for i, f := range cfg.ListenerFormats {
		if f.Codec == codec.Opus {
			recordings = append(recordings, DTXRecording())
			continue
		}
		rec, err := Record(f, 5, 50, NoiseCapture(-70, cfg.Seed+uint64(i)))
		if err != nil {
			return nil, err
		}
		recordings = append(recordings, rec)
	}
	r.legs = make([]leg, cfg.Participants)
	for i := range r.legs {
		var rec *Recording
		var f codec.Format
		if i < len(cfg.Talkers) {
			rec, f = recordings[i], cfg.Talkers[i].Format
		} else {
			j := (i - len(cfg.Talkers)) % len(cfg.ListenerFormats)
			rec, f = recordings[len(cfg.Talkers)+j], cfg.ListenerFormats[j]
		}
		pt := PayloadTypeOf(f.Codec)
		// The leg's negotiated payload types: its codec and telephone-event, as an SDP answer
		// gives them (RFC 3264).
		buf, err := jitter.New(jitter.Config{PayloadTypes: []jitter.PayloadType{
			{Type: pt, Codec: f.Codec},
			{Type: 101, Kind: jitter.TelephoneEvent, ClockRate: f.Codec.ClockRate()},
		}})
		if err != nil {
			return nil, err
		}
		l := &r.legs[i]
		*l = leg{id: mixer.ID(i + 1), client: NewClient(rec, rng.Uint32(), rng.IntN(rec.Ticks())), buf: buf,
			rtp: newHeaderWriter(pt), phase: time.Duration(rng.Int64N(int64(codec.FrameDuration))), format: f}
		if err := r.mix.Add(l.id, mixer.ParticipantConfig{Source: buf, Format: f}); err != nil {
			return nil, err
		}
	}
	if cfg.Distinct {
		for i := len(cfg.Talkers); i < len(r.legs); i++ {
			talker := r.legs[i%len(cfg.Talkers)].id
			gain := 0.5 + 0.5*float32(i%97)/97
			if err := r.mix.SetGain(r.legs[i].id, talker, gain); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// Len returns the number of participants.
func (r *Room) Len() int { return len(r.legs) }

// Talkers returns the number of talkers, who are the participants 0 to Talkers()-1.
func (r *Room) Talkers() int { return len(r.cfg.Talkers) }

// Mixer returns the room's mixer, for its Stats.
func (r *Room) Mixer() *mixer.Mixer { return r.mix }

// Now returns the time of the next tick.
func (r *Room) Now() time.Time { return r.now }

// Push delivers every packet that arrives before the next tick to its leg's jitter buffer (the
// per-packet work of the legs' reader goroutines) and returns how many it pushed. Each client's
// packets arrive at a fixed phase before the tick, different for every client.
func (r *Room) Push() int {
	n := 0
	for i := range r.legs {
		l := &r.legs[i]
		p, ok := l.client.Next()
		if !ok {
			continue
		}
		if err := l.buf.Push(p, r.now.Add(-l.phase)); err != nil {
			r.pushErr++
		}
		n++
	}
	r.pushed += uint64(n)
	return n
}

// Tick runs the mixer for the tick at Now and writes every due packet's RTP header and payload
// into one reused buffer (the send, short of the socket), then moves Now on by one tick.
func (r *Room) Tick() {
	r.mix.Tick(r.now)
	for i := range r.legs {
		l := &r.legs[i]
		out := r.mix.Output(l.id)
		if !out.Due {
			continue
		}
		n, err := l.rtp.Packet(r.packet, out.Payload, out.Marker, int(out.TimestampStep), r.now)
		if err == nil && n > 0 {
			r.sent++
		}
	}
	for _, m := range r.monitor {
		m.take(r.mix.Output(r.legs[m.Index].id), r.legs[m.Index].format.Samples())
	}
	r.now = r.now.Add(codec.FrameDuration)
	r.ticks++
}

// Step runs one whole tick: Push, then Tick.
func (r *Room) Step() {
	r.Push()
	r.Tick()
}

// Run runs n whole ticks.
func (r *Room) Run(n int) {
	for range n {
		r.Step()
	}
}

// Monitor starts decoding what participant i (0-based, talkers first) hears.
func (r *Room) Monitor(i int) (*Monitor, error) {
	if i < 0 || i >= len(r.legs) {
		return nil, fmt.Errorf("bench: no participant %d in a room of %d", i, len(r.legs))
	}
	dec, err := codec.NewDecoder(r.legs[i].format.Codec)
	if err != nil {
		return nil, err
	}
	m := &Monitor{Index: i, dec: dec}
	r.monitor = append(r.monitor, m)
	return m, nil
}

func (m *Monitor) take(out mixer.Output, samples int) {
	if !out.Due {
		return
	}
	n, err := out.Decode(m.dec, m.buf[:], samples)
	if err != nil {
		n = samples
		clear(m.buf[:n])
	}
	m.PCM = append(m.PCM, m.buf[:n]...)
}

// RoomStats is what a room's run did, for checks and printouts.
type RoomStats struct {
	// Ticks is the number of ticks run.
	Ticks int
	// Pushed counts packets pushed into jitter buffers, PushErrors those refused.
	Pushed, PushErrors uint64
	// Sent counts RTP packets written.
	Sent uint64
	// Jitter sums every leg's jitter buffer statistics (delays are the largest).
	Jitter jitter.Stats
	// Mixer is the mixer's snapshot.
	Mixer mixer.Stats
}

// Stats returns the room's counters.
func (r *Room) Stats() RoomStats {
	s := RoomStats{Ticks: r.ticks, Pushed: r.pushed, PushErrors: r.pushErr, Sent: r.sent, Mixer: r.mix.Stats()}
	for i := range r.legs {
		s.Jitter = addJitterStats(s.Jitter, r.legs[i].buf.Stats())
	}
	return s
}

// addJitterStats adds b's counters to a's and keeps the larger delays.
func addJitterStats(a, b jitter.Stats) jitter.Stats {
	a.CurrentDelay = max(a.CurrentDelay, b.CurrentDelay)
	a.TargetDelay = max(a.TargetDelay, b.TargetDelay)
	a.Pushed += b.Pushed
	a.Played += b.Played
	a.Late += b.Late
	a.Lost += b.Lost
	a.Concealed += b.Concealed
	a.FECRecovered += b.FECRecovered
	a.Duplicates += b.Duplicates
	a.Dropped += b.Dropped
	a.Expanded += b.Expanded
	a.Overflow += b.Overflow
	a.Invalid += b.Invalid
	a.Events += b.Events
	a.Restarts += b.Restarts
	a.TimestampJumps += b.TimestampJumps
	return a
}
