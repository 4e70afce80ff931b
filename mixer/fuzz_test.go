package mixer

import (
	"errors"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// FuzzOps drives a mixer with an arbitrary sequence of joins, leaves, rule changes and ticks, and
// checks that nothing panics, that bad input is refused with a documented error, and that the
// tick's invariants hold: at most TopK+1 talkers, payloads only when due, nobody hearing itself.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 9, 9, 9, 9})
	f.Add([]byte{0, 1, 0, 2, 2, 1, 9, 3, 2, 9, 4, 0x31, 9, 1, 1, 9})
	f.Add([]byte{0, 1, 0, 2, 0, 3, 5, 0x12, 6, 0x21, 9, 9, 7, 0x13, 9, 1, 2, 9, 8, 0, 9})
	f.Add([]byte{0, 0x41, 0, 0x82, 0, 0xC3, 9, 9, 2, 1, 3, 2, 9, 9, 9})
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 9, 9, 10, 5, 9, 9, 11, 0x12, 9, 10, 1, 9, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		fac := &fakeFactory{}
		m := New(Config{TopK: 2, NewEncoder: fac.New})
		now := time.Unix(0, 0)
		formats := []codec.Format{opus20, {Codec: codec.PCMU}, {Codec: codec.Opus, PacketTime: 60 * time.Millisecond}, {}}
		tones := map[ID]*toneSource{}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i], ops[i+1]
			id, other := ID(arg&7+1), ID(arg>>3&7+1)
			var err error
			switch op % 12 {
			case 0:
				src := newTone(freqs[id-1], float64(arg>>6+1)*0.05, arg&8 != 0)
				if err = m.Add(id, ParticipantConfig{Source: src, Format: formats[arg>>4&3]}); err == nil {
					tones[id] = src
				}
			case 1:
				err = m.Remove(id)
			case 2:
				err = m.SetMuted(id, arg&0x40 != 0)
			case 3:
				err = m.SetDeaf(id, arg&0x40 != 0)
			case 4:
				err = m.SetRole(id, Role(arg>>6), other)
			case 5:
				err = m.SetGain(id, other, float32(arg>>6)*1.5)
			case 6:
				err = m.SetMatrix([]Pair{{Listener: id, Speaker: other, Gain: 0.5}, {Listener: other, Speaker: id, Gain: 2}})
			case 7:
				if s, ok := tones[id]; ok {
					s.paused = !s.paused
				}
			case 8:
				_, err = m.EffectiveGain(id, other)
			case 10:
				m.SetTopK(int(arg & 7))
			case 11:
				err = m.SetFormat(id, formats[arg>>4&3])
			case 9:
				m.Tick(now)
				now = now.Add(codec.FrameDuration)
				if n := len(m.Talkers(nil)); n > m.Config().TopK+1 {
					t.Fatalf("%d talkers with TopK %d", n, m.Config().TopK)
				}
				for id := range tones {
					out := m.Output(id)
					if out.Payload != nil && !out.Due {
						t.Fatalf("participant %d: payload when nothing is due", id)
					}
					if out.Payload == nil {
						continue
					}
					pcm := fac.decode(out, 0)
					peak := 0
					for _, v := range pcm {
						peak = max(peak, int(v), -int(v))
					}
					// Abrupt edges (a join mid-packet, a 2.5 ms mute cut) leak other
					// tones into every bin at -50 to -60 dBFS; hearing even one frame of
					// one's own tone (amplitude ≥ 0.05) reads -36 dBFS or more.
					own := audiotest.ToneLevel(pcm, codec.SampleRate, freqs[id-1])
					if rms := audiotest.RMS(pcm); peak < limiterKnee && own > -45 && own > rms-12 {
						t.Fatalf("participant %d hears its own tone at %.1f dBFS in %.1f dBFS", id, own, rms)
					}
				}
			}
			if err != nil && !errors.Is(err, ErrUnknownParticipant) && !errors.Is(err, ErrDuplicateParticipant) &&
				!errors.Is(err, ErrBadRole) && !errors.Is(err, ErrSelfPair) && !errors.Is(err, ErrBadGain) &&
				!errors.Is(err, codec.ErrBadFormat) {
				t.Fatalf("op %d: undocumented error %v", op%12, err)
			}
		}
	})
}
