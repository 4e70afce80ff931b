// Package rtptest sends test audio the way a phone would: a sine tone encoded with confd's own
// codecs, as RTP packets every 20 ms, into whatever takes raw RTP (a bridge participant). It
// imports no confd package above the codecs, so the bridge's own tests can use it too.
package rtptest

import (
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/internal/testkit/audiotest"
)

// Pusher takes one raw RTP packet and its arrival time (bridge.Participant.PushRTP).
type Pusher interface {
	PushRTP(raw []byte, now time.Time) error
}

// SendTone sends a tone of freq Hz at amplitude 0.3 to p, encoded in c with payload type pt,
// one 20 ms packet every 20 ms of the clock, until stop is closed. It returns the first error.
func SendTone(p Pusher, c codec.Codec, pt uint8, freq float64, stop <-chan struct{}) error {
	enc, err := codec.NewEncoder(codec.Format{Codec: c})
	if err != nil {
		return err
	}
	tone := audiotest.NewTone(freq, 0.3, codec.SampleRate)
	var frame codec.Frame
	payload, pkt := make([]byte, codec.MaxPayloadSize), make([]byte, 1500)
	h := rtp.Header{Version: 2, PayloadType: pt, SSRC: uint32(freq*1000) + uint32(pt), Marker: true}
	step := uint32(codec.FrameSamples * c.ClockRate() / codec.SampleRate)
	for {
		select {
		case <-stop:
			return nil
		case <-time.After(codec.FrameDuration):
		}
		tone.Fill(frame[:])
		n, err := enc.Encode(frame[:], payload)
		if err != nil {
			return err
		}
		if n > 0 {
			m, err := h.MarshalTo(pkt)
			if err != nil {
				return err
			}
			m += copy(pkt[m:], payload[:n])
			if err := p.PushRTP(pkt[:m], time.Now()); err != nil {
				return err
			}
			h.Marker = false
			h.SequenceNumber++
		}
		h.Timestamp += step
	}
}
