package codec

import (
	"cmp"
	"fmt"
	"time"
)

// Codec names an audio codec that confd can encode and decode.
type Codec uint8

// The codecs confd knows. The zero value is no codec.
const (
	// Opus is RFC 6716 Opus in the RTP payload format of RFC 7587: always "opus/48000/2" in SDP,
	// an RTP clock of 48 kHz whatever the audio bandwidth.
	Opus Codec = iota + 1
	// PCMU is G.711 µ-law, RTP payload type 0, 8 kHz (RFC 3551).
	PCMU
	// PCMA is G.711 A-law, RTP payload type 8, 8 kHz (RFC 3551).
	PCMA
	// G722 is ITU-T G.722, RTP payload type 9: 16 kHz audio with an RTP clock of 8000, an error
	// in RFC 1890 that RFC 3551 section 4.5.2 keeps for compatibility.
	G722
)

// codecNames holds each codec's SDP encoding name (RFC 3551 section 6, RFC 7587 section 7),
// indexed by Codec: the one place String, ByName and ParseCodec read them from.
var codecNames = [...]string{Opus: "opus", PCMU: "PCMU", PCMA: "PCMA", G722: "G722"}

// Known reports whether c is one of the codecs above, which confd implements.
func (c Codec) Known() bool { return c != 0 && int(c) < len(codecNames) }

// String returns the codec's SDP encoding name.
func (c Codec) String() string {
	if c.Known() {
		return codecNames[c]
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// ByName returns the Codec whose SDP encoding name is name, in any case (RFC 4566 section 6
// says encoding names are case-insensitive), whatever the clock rate; false for another name.
func ByName(name string) (Codec, bool) {
	for c, n := range codecNames {
		if n != "" && equalFold(name, n) {
			return Codec(c), true
		}
	}
	return 0, false
}

// ClockRate returns the codec's RTP clock rate in Hz (the rate written in SDP rtpmap and used for
// RTP timestamps), which for G.722 is not its audio sample rate.
func (c Codec) ClockRate() int {
	switch c {
	case Opus:
		return 48000
	case PCMU, PCMA, G722:
		return 8000
	}
	return 0
}

// RTPUnits returns how far d moves the codec's RTP clock (ClockRate ticks per second): what a
// packet of d advances the timestamp by, or a gap of d skips.
func (c Codec) RTPUnits(d time.Duration) int {
	return int(int64(c.ClockRate()) * int64(d) / int64(time.Second))
}

// AudioRate returns the sample rate in Hz of the audio the codec carries.
func (c Codec) AudioRate() int {
	switch c {
	case Opus:
		return 48000
	case PCMU, PCMA:
		return 8000
	case G722:
		return 16000
	}
	return 0
}

// Channels returns the channel count written in the SDP rtpmap: 2 for Opus (RFC 7587 section 7
// requires "opus/48000/2" even for mono audio), 1 otherwise.
func (c Codec) Channels() int {
	if c == Opus {
		return 2
	}
	return 1
}

// StaticPayloadType returns the RTP payload type RFC 3551 assigns to the codec, and false for a
// codec such as Opus that only has dynamic payload types.
func (c Codec) StaticPayloadType() (uint8, bool) {
	switch c {
	case PCMU:
		return 0, true
	case PCMA:
		return 8, true
	case G722:
		return 9, true
	}
	return 0, false
}

// ParseCodec returns the Codec for an SDP encoding name (case-insensitive, as RFC 4566 section 6
// says encoding names are) and its clock rate, or ErrUnknownCodec.
func ParseCodec(name string, clockRate int) (Codec, error) {
	if c, ok := ByName(name); ok && clockRate == c.ClockRate() {
		return c, nil
	}
	return 0, fmt.Errorf("%w: %s/%d", ErrUnknownCodec, name, clockRate)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Format is everything that decides the bytes an encoder produces from the same PCM. Two legs
// whose Formats are equal can share one encoder and its payloads, each with its own RTP header,
// so Format is comparable and serves as the key of an output group.
//
// The zero value of each setting is a documented default, so Format{Codec: PCMU} is complete.
type Format struct {
	// Codec is the codec to encode with.
	Codec Codec
	// PacketTime is the audio duration of one RTP packet: a multiple of 20 ms up to
	// MaxPacketDuration (SDP "ptime", RFC 4566). Zero means 20 ms.
	PacketTime time.Duration
	// Bitrate is the Opus target bitrate in bit/s. Zero means 32000, good wideband speech.
	// Ignored by other codecs.
	Bitrate int
	// Complexity is the Opus encoder complexity, 0 to 10. Zero means 5, where DESIGN-NOTES.md
	// measured about half the cost of 10 for speech that is hard to tell apart. Use
	// ComplexityZero for a real 0.
	Complexity int
	// ExpectedLoss is the packet loss, in percent 0 to 100, that the Opus encoder prepares for.
	// In-band FEC (RFC 6716 section 2.1.7) is only sent when this is above zero, so the bridge
	// feeds it from RTCP receiver reports. Callers should quantise it (for example to 0, 5, 10,
	// 20) so that listeners with similar loss still share an encoder.
	ExpectedLoss int
	// NoFEC turns in-band FEC off even when ExpectedLoss is set.
	NoFEC bool
	// NoDTX turns Opus discontinuous transmission off; by default a silent mix is sent as DTX
	// frames of one or two bytes (RFC 7587 section 3.1.3).
	NoDTX bool
	// Stereo makes the Opus encoder take two channels, interleaved left/right PCM (see
	// Channels), for a receiver whose SDP said "stereo=1" (RFC 7587 section 6.1). A stereo
	// encoder's default Bitrate is 48000, because libopus folds a stereo stream into mono below
	// about 24 kbit/s of equivalent rate and FEC eats into it. Ignored by other codecs, which
	// are mono.
	Stereo bool
	// LowDelay encodes Opus in libopus's restricted low-delay application (CELT only, RFC 6716
	// section 2): a look-ahead of 2.5 ms instead of the VoIP application's 6.5 ms, at the cost
	// of SILK's efficiency at low bitrates and of in-band FEC, which is SILK's. For a leg at a
	// high bitrate on a clean network whose delay adds to everyone's: a cascade between nodes.
	LowDelay bool
}

// MinOpusBitrate and MaxOpusBitrate bound an Opus Format's Bitrate, in bit/s: libopus's range
// (opus_encoder_ctl OPUS_SET_BITRATE, RFC 6716 section 2.1.1 gives 6 kbit/s to 510 kbit/s).
const (
	MinOpusBitrate = 6000
	MaxOpusBitrate = 510000
)

// DefaultStereoBitrate is the Bitrate a stereo Opus Format that asks for none gets.
const DefaultStereoBitrate = 48000

// ComplexityZero asks for an Opus complexity of 0 (the zero value of Complexity means 5).
const ComplexityZero = -1

// Normalized returns f with every zero-valued default filled in, so that two Formats that encode
// alike compare equal. It does not validate; see Validate.
func (f Format) Normalized() Format {
	f.PacketTime = cmp.Or(f.PacketTime, FrameDuration)
	if f.Codec != Opus {
		f.Bitrate, f.Complexity, f.ExpectedLoss, f.NoFEC, f.NoDTX, f.Stereo, f.LowDelay = 0, 0, 0, false, false, false, false
		return f
	}
	switch {
	case f.Bitrate == 0 && f.Stereo:
		f.Bitrate = DefaultStereoBitrate
	case f.Bitrate == 0:
		f.Bitrate = 32000
	}
	f.Complexity = cmp.Or(f.Complexity, 5)
	return f
}

// Validate reports whether f's settings are in range, wrapping ErrUnknownCodec or ErrBadFormat.
func (f Format) Validate() error {
	n := f.Normalized()
	if !n.Codec.Known() {
		return fmt.Errorf("%w: %d", ErrUnknownCodec, f.Codec)
	}
	if n.PacketTime%FrameDuration != 0 || n.PacketTime <= 0 || n.PacketTime > MaxPacketDuration {
		return fmt.Errorf("%w: packet time %v is not a multiple of 20ms up to %v", ErrBadFormat, f.PacketTime, MaxPacketDuration)
	}
	if n.Codec == Opus {
		if n.Bitrate < MinOpusBitrate || n.Bitrate > MaxOpusBitrate {
			return fmt.Errorf("%w: opus bitrate %d outside %d-%d", ErrBadFormat, f.Bitrate, MinOpusBitrate, MaxOpusBitrate)
		}
		if n.Complexity != ComplexityZero && (n.Complexity < 0 || n.Complexity > 10) {
			return fmt.Errorf("%w: opus complexity %d outside 0-10", ErrBadFormat, f.Complexity)
		}
		if n.ExpectedLoss < 0 || n.ExpectedLoss > 100 {
			return fmt.Errorf("%w: expected loss %d%% outside 0-100", ErrBadFormat, f.ExpectedLoss)
		}
	}
	return nil
}

// Samples returns the number of samples at SampleRate in one packet of f, per channel.
func (f Format) Samples() int {
	return int(f.Normalized().PacketTime / FrameDuration * FrameSamples)
}

// Channels returns the number of PCM channels an encoder of f takes: 2 for stereo Opus, whose
// Encode reads Samples() interleaved left/right pairs, else 1. (Codec.Channels is the count SDP
// writes, always 2 for Opus.)
func (f Format) Channels() int {
	if f.Stereo && f.Codec == Opus {
		return 2
	}
	return 1
}

// String describes f compactly, for logs and pipeline printouts, e.g. "opus/48000 20ms 32kbit/s c5 loss5%".
func (f Format) String() string {
	n := f.Normalized()
	s := fmt.Sprintf("%s/%d %v", n.Codec, n.Codec.ClockRate(), n.PacketTime)
	if n.Codec == Opus {
		complexity := n.Complexity
		if complexity == ComplexityZero {
			complexity = 0
		}
		s += fmt.Sprintf(" %dkbit/s c%d", n.Bitrate/1000, complexity)
		if n.ExpectedLoss > 0 && !n.NoFEC {
			s += fmt.Sprintf(" fec%d%%", n.ExpectedLoss)
		}
		if n.NoDTX {
			s += " nodtx"
		}
		if n.Stereo {
			s += " stereo"
		}
		if n.LowDelay {
			s += " lowdelay"
		}
	}
	return s
}
