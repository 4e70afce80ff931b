// Package rtptest sends test audio the way a phone would: a sine tone encoded with confd's own
// codecs, as RTP packets every 20 ms, into whatever takes raw RTP (a bridge participant). A
// NopLeg is such a participant's ear that hears nothing; a Receiver is the far end of what
// confd sends as plain RTP (a forwarder's recorder), decoding it as it arrives. It imports no
// confd package above the codecs, so the bridge's own tests can use it too.
package rtptest

import (
	"sync"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/testkit/audiotest"
)

// Pusher takes one raw RTP packet and its arrival time (bridge.Participant.PushRTP).
type Pusher interface {
	PushRTP(raw []byte, now time.Time) error
}

// SendTone sends a tone of freq Hz at amplitude 0.3 to p, encoded in c with payload type pt,
// one 20 ms packet every 20 ms of the clock, until stop is closed. It returns the first error.
func SendTone(p Pusher, c codec.Codec, pt uint8, freq float64, stop <-chan struct{}) error {
	return Tone{Codec: c, PT: pt, Hz: freq}.Send(p, stop)
}

// Tone says what Send sends: a sine of Hz at Amplitude, encoded in Codec with payload type PT.
type Tone struct {
	Codec codec.Codec
	PT    uint8
	Hz    float64
	// Amplitude is the tone's peak, 0..1 of full scale. Default 0.3.
	Amplitude float64
	// LevelExtensionID, when not 0, gives every packet an RFC 6464 audio level (-6 dBov, voice
	// active) as the one-byte header extension with this id, as a browser sends.
	LevelExtensionID uint8
}

// Send sends the tone to p, one 20 ms packet on every 20 ms tick of the clock, until stop is
// closed. It returns the first error.
func (tn Tone) Send(p Pusher, stop <-chan struct{}) error {
	if tn.Amplitude == 0 {
		tn.Amplitude = 0.3
	}
	enc, err := codec.NewEncoder(codec.Format{Codec: tn.Codec})
	if err != nil {
		return err
	}
	tone := audiotest.NewTone(tn.Hz, tn.Amplitude, codec.SampleRate)
	var frame codec.Frame
	payload, raw := make([]byte, codec.MaxPayloadSize), make([]byte, 1500)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: tn.PT, SSRC: uint32(tn.Hz*1000) + uint32(tn.PT), Marker: true}}
	if tn.LevelExtensionID != 0 {
		if err := pkt.SetExtension(tn.LevelExtensionID, []byte{0x80 | 6}); err != nil {
			return err
		}
	}
	step := uint32(codec.FrameSamples * tn.Codec.ClockRate() / codec.SampleRate)
	tick := time.NewTicker(codec.FrameDuration)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
		tone.Fill(frame[:])
		n, err := enc.Encode(frame[:], payload)
		if err != nil {
			return err
		}
		if n > 0 {
			pkt.Payload = payload[:n]
			m, err := pkt.MarshalTo(raw)
			if err != nil {
				return err
			}
			if err := p.PushRTP(raw[:m], time.Now()); err != nil {
				return err
			}
			pkt.Marker = false
			pkt.SequenceNumber++
		}
		pkt.Timestamp += step
	}
}

// Player sends a Tone to a participant from a goroutine of its own until Stop.
type Player struct {
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	after    func()
}

// Play sends tn to p until Stop, then calls after (the participant leaves). p is typically a
// bridge participant joined by the test; tests call Stop in a Cleanup or sooner.
func Play(p Pusher, tn Tone, after func()) *Player {
	pl := &Player{stop: make(chan struct{}), done: make(chan struct{}), after: after}
	go func() {
		defer close(pl.done)
		_ = tn.Send(p, pl.stop)
	}()
	return pl
}

// Stop stops the tone, waits until it is no longer sent and calls Play's after. It is safe to
// call more than once.
func (pl *Player) Stop() {
	pl.stopOnce.Do(func() {
		close(pl.stop)
		<-pl.done
		if pl.after != nil {
			pl.after()
		}
	})
}
