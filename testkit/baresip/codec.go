package baresip

import "fmt"

// Codec names one audio codec as baresip's audio_codecs account parameter spells it in full
// (encoding name/clock rate/channels, the SDP rtpmap of RFC 4566 section 6), which forces the
// peer to offer or accept only that codec.
type Codec string

// The codecs baresip-core 1.0.0 carries and confd's docs/SPEC.md admits.
const (
	// PCMU is G.711 mu-law, RFC 3551 section 4.5.14, 8 kHz mono.
	PCMU Codec = "PCMU/8000/1"
	// PCMA is G.711 A-law, RFC 3551 section 4.5.14, 8 kHz mono.
	PCMA Codec = "PCMA/8000/1"
	// Opus is RFC 7587 Opus: an RTP clock of 48 kHz and two channels in SDP; baresip encodes
	// and decodes it as 48 kHz stereo.
	Opus Codec = "opus/48000/2"
	// G722 is G.722, RFC 3551 section 4.5.2: 16 kHz audio (its SDP clock rate is 8000 by a
	// historical error, but baresip names it by its audio rate).
	G722 Codec = "G722/16000/1"
)

// SampleRate returns the rate, in Hz, of the PCM that baresip feeds the codec's encoder and
// gets from its decoder, which is also the rate of its aufile source and sndfile recordings.
func (c Codec) SampleRate() int {
	switch c {
	case PCMU, PCMA:
		return 8000
	case G722:
		return 16000
	case Opus:
		return 48000
	}
	return 0
}

// Channels returns the channel count of the codec's PCM in baresip (two for Opus).
func (c Codec) Channels() int {
	switch c {
	case PCMU, PCMA, G722:
		return 1
	case Opus:
		return 2
	}
	return 0
}

// String returns the codec's audio_codecs spelling.
func (c Codec) String() string { return string(c) }

func (c Codec) validate() error {
	if c.SampleRate() == 0 {
		return fmt.Errorf("%w: codec %q (want PCMU/8000/1, PCMA/8000/1, opus/48000/2 or G722/16000/1)", ErrBadConfig, string(c))
	}
	return nil
}
