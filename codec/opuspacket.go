package codec

import "fmt"

// This file reads Opus packets without decoding them and without cgo: the table of contents byte
// and the frame packing of RFC 6716 section 3, and the first flags of a SILK frame (section
// 4.2.3–4.2.4) to learn whether a packet carries in-band FEC. The mixer calls these per packet,
// so they allocate nothing.

// opusMaxFrameBytes is the largest Opus frame in bytes (RFC 6716 section 3.2.1, requirement R2).
const opusMaxFrameBytes = 1275

// opusMaxFrames is the most frames one packet can hold: 120 ms of 2.5 ms frames (RFC 6716
// section 3.2.5).
const opusMaxFrames = 48

// opusFrameSamples is the duration at 48 kHz of one frame for each TOC configuration number
// (RFC 6716 section 3.1, Table 2): SILK-only 10/20/40/60 ms, hybrid 10/20 ms, CELT-only
// 2.5/5/10/20 ms.
var opusFrameSamples = [32]int{
	480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880, // SILK NB, MB, WB
	480, 960, 480, 960, // hybrid SWB, FB
	120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, // CELT
}

// opusPacket is a parsed Opus packet: where each of its frames lies within the payload.
type opusPacket struct {
	toc         byte
	frames      int
	frameSample int // samples at 48 kHz per frame
	offset      [opusMaxFrames]int16
	size        [opusMaxFrames]int16
}

// samples returns the packet's duration at 48 kHz.
func (p *opusPacket) samples() int { return p.frames * p.frameSample }

// corrupt wraps ErrCorruptPayload with the reason an Opus packet is malformed.
func corrupt(why string) error { return fmt.Errorf("%w: opus: %s", ErrCorruptPayload, why) }

// Reasons a packet is malformed, made once so that parsing bad input allocates nothing either.
var (
	errOpusEmpty     = corrupt("empty packet")
	errOpusFrameSize = corrupt("frame longer than 1275 bytes or than the packet")
	errOpusCode1     = corrupt("code 1 packet with an odd payload length")
	errOpusCount     = corrupt("code 3 packet with no frames or more than 120 ms")
	errOpusPadding   = corrupt("padding longer than the packet")
	errOpusCBR       = corrupt("code 3 CBR payload not a multiple of the frame count")
)

// frameLength reads one frame length (RFC 6716 section 3.2.1) from b: one byte below 252, else
// two bytes meaning first + 4*second. It returns the length and the bytes consumed, or n == 0.
func frameLength(b []byte) (length, n int) {
	if len(b) < 1 {
		return 0, 0
	}
	if b[0] < 252 {
		return int(b[0]), 1
	}
	if len(b) < 2 {
		return 0, 0
	}
	return int(b[0]) + 4*int(b[1]), 2
}

// parse fills p from payload following RFC 6716 section 3.2, checking the requirements R1–R7 of
// section 3.4 that a decoder must enforce, and returns ErrCorruptPayload for a packet that breaks one.
func (p *opusPacket) parse(payload []byte) error {
	if len(payload) < 1 {
		return errOpusEmpty
	}
	p.toc = payload[0]
	p.frameSample = opusFrameSamples[p.toc>>3]
	pos := 1
	rest := len(payload) - 1
	switch p.toc & 3 {
	case 0: // one frame
		if rest > opusMaxFrameBytes {
			return errOpusFrameSize
		}
		p.frames = 1
		p.offset[0], p.size[0] = int16(pos), int16(rest)
	case 1: // two frames of equal size
		if rest%2 != 0 {
			return errOpusCode1
		}
		if rest/2 > opusMaxFrameBytes {
			return errOpusFrameSize
		}
		p.frames = 2
		p.offset[0], p.size[0] = int16(pos), int16(rest/2)
		p.offset[1], p.size[1] = int16(pos+rest/2), int16(rest/2)
	case 2: // two frames, the first one's size coded
		n1, used := frameLength(payload[pos:])
		if used == 0 {
			return errOpusFrameSize
		}
		pos += used
		rest -= used
		if n1 > rest || n1 > opusMaxFrameBytes || rest-n1 > opusMaxFrameBytes {
			return errOpusFrameSize
		}
		p.frames = 2
		p.offset[0], p.size[0] = int16(pos), int16(n1)
		p.offset[1], p.size[1] = int16(pos+n1), int16(rest-n1)
	case 3: // M frames, CBR or VBR, optional padding
		if rest < 1 {
			return errOpusCount
		}
		fc := payload[pos]
		pos++
		rest--
		m := int(fc & 0x3f)
		if m == 0 || m*p.frameSample > MaxPacketSamples {
			return errOpusCount
		}
		p.frames = m
		if fc&0x40 != 0 { // padding
			for {
				if rest < 1 {
					return errOpusPadding
				}
				b := int(payload[pos])
				pos++
				rest--
				if b == 255 {
					rest -= 254
				} else {
					rest -= b
				}
				if rest < 0 {
					return errOpusPadding
				}
				if b != 255 {
					break
				}
			}
		}
		if fc&0x80 == 0 { // CBR
			if rest%m != 0 {
				return errOpusCBR
			}
			each := rest / m
			if each > opusMaxFrameBytes {
				return errOpusFrameSize
			}
			for i := 0; i < m; i++ {
				p.offset[i], p.size[i] = int16(pos+i*each), int16(each)
			}
			return nil
		}
		// VBR: M-1 coded lengths, the last frame takes what is left.
		for i := 0; i < m-1; i++ {
			n, used := frameLength(payload[pos:])
			if used == 0 {
				return errOpusFrameSize
			}
			pos += used
			rest -= used
			if n > opusMaxFrameBytes || n > rest {
				return errOpusFrameSize
			}
			p.size[i] = int16(n)
			rest -= n
		}
		if rest < 0 || rest > opusMaxFrameBytes {
			return errOpusFrameSize
		}
		p.size[m-1] = int16(rest)
		for i := 0; i < m; i++ {
			p.offset[i] = int16(pos)
			pos += int(p.size[i])
		}
	}
	return nil
}

// OpusPacketSamples returns the duration at 48 kHz of an Opus packet — frames per packet times
// the frame size — read from its table of contents byte and frame packing (RFC 6716 sections 3.1
// and 3.2) without decoding it. A packet that breaks the rules of RFC 6716 section 3.4 (R1–R7)
// gives ErrCorruptPayload. It allocates nothing.
func OpusPacketSamples(payload []byte) (int, error) {
	var p opusPacket
	if err := p.parse(payload); err != nil {
		return 0, err
	}
	return p.samples(), nil
}

// OpusIsDTX reports whether an Opus payload is a discontinuous-transmission frame, which carries
// no audio (RFC 7587 section 3.1.3): a payload of at most 2 bytes (libopus's DTX output, which
// opus.h says need not be sent), or a well-formed packet whose every frame is at most 1 byte long
// (the rule by which libopus's decoder treats a frame as absent and conceals or plays comfort
// noise instead, RFC 6716 section 3.2.1). It allocates nothing.
func OpusIsDTX(payload []byte) bool {
	if len(payload) <= 2 {
		return true
	}
	var p opusPacket
	if p.parse(payload) != nil {
		return false
	}
	for i := 0; i < p.frames; i++ {
		if p.size[i] > 1 {
			return false
		}
	}
	return true
}

// OpusHasFEC reports whether an Opus payload carries in-band FEC (LBRR) data for the packet
// before it: the first frame is SILK or hybrid (TOC configuration below 16, RFC 6716 section 3.1)
// and the LBRR flag of a channel is set in its SILK header (section 4.2.3). It reads those flags
// with a few steps of the range decoder of section 4.1 and allocates nothing.
func OpusHasFEC(payload []byte) bool {
	var p opusPacket
	if p.parse(payload) != nil || p.toc>>3 >= 16 || p.size[0] <= 1 {
		return false
	}
	frame := payload[p.offset[0] : p.offset[0]+p.size[0]]
	channels := 1
	if p.toc&4 != 0 {
		channels = 2
	}
	// SILK frames per Opus frame: 10 and 20 ms frames hold one, 40 ms two, 60 ms three
	// (RFC 6716 section 4.2.2).
	silkFrames := 1
	if p.frameSample > 960 {
		silkFrames = p.frameSample / 960
	}
	var rd rangeDecoder
	rd.init(frame)
	lbrr := false
	for c := 0; c < channels; c++ {
		for i := 0; i < silkFrames; i++ {
			rd.bitLogP(1) // voice activity flag of SILK frame i
		}
		if rd.bitLogP(1) {
			lbrr = true
		}
	}
	return lbrr
}

// OpusVoiceActivity reads the voice activity flags a SILK or hybrid Opus packet carries (RFC 6716
// section 4.2.3: one per SILK frame and channel, the first symbols of each frame's range-coded
// data), as libwebrtc's WebRtcOpus_PacketHasVoiceActivity does, without decoding: voice is true
// when any frame's flag is set. known is false for a CELT-only packet (TOC configuration 16 and
// above), whose encoder writes no such flag, and for a malformed one; a DTX packet (every frame
// at most a byte) is known silent. libopus sets the flag from the same detector that drives its
// DTX, so a phone that sends every 20 ms without DTX still says, packet by packet, whether it
// hears speech: a mixer can leave the silent ones undecoded. It allocates nothing.
func OpusVoiceActivity(payload []byte) (voice, known bool) {
	var p opusPacket
	if len(payload) == 0 || p.parse(payload) != nil || p.toc>>3 >= 16 {
		return false, false
	}
	channels := 1
	if p.toc&4 != 0 {
		channels = 2
	}
	silkFrames := 1 // per Opus frame: 10 and 20 ms hold one, 40 ms two, 60 ms three (section 4.2.2)
	if p.frameSample > 960 {
		silkFrames = p.frameSample / 960
	}
	var rd rangeDecoder
	for f := 0; f < p.frames; f++ {
		if p.size[f] <= 1 {
			continue // an absent frame (DTX): no audio
		}
		rd.init(payload[p.offset[f] : p.offset[f]+p.size[f]])
		for c := 0; c < channels; c++ {
			for i := 0; i < silkFrames; i++ {
				if rd.bitLogP(1) {
					return true, true
				}
			}
			rd.bitLogP(1) // the channel's LBRR flag
		}
	}
	return false, true
}

// rangeDecoder is the start of the range decoder of RFC 6716 section 4.1, enough to read
// binary flags (ec_dec_bit_logp).
type rangeDecoder struct {
	buf []byte
	pos int
	rem uint32 // the last byte read, whose low bit is not yet used
	rng uint32
	val uint32
}

func (d *rangeDecoder) readByte() uint32 {
	if d.pos < len(d.buf) {
		b := d.buf[d.pos]
		d.pos++
		return uint32(b)
	}
	return 0
}

// init starts decoding buf (RFC 6716 section 4.1.1).
func (d *rangeDecoder) init(buf []byte) {
	d.buf, d.pos = buf, 0
	d.rng = 128
	d.rem = d.readByte()
	d.val = d.rng - 1 - d.rem>>1
	d.normalize()
}

// normalize renormalises the range (RFC 6716 section 4.1.2.1).
func (d *rangeDecoder) normalize() {
	for d.rng <= 1<<23 {
		d.rng <<= 8
		sym := d.rem
		d.rem = d.readByte()
		sym = (sym<<8 | d.rem) >> 1
		d.val = ((d.val << 8) + (255 &^ sym)) & (1<<31 - 1)
	}
}

// bitLogP decodes one binary symbol whose probability of being 1 is 1/2^logp (RFC 6716
// section 4.1.3.2).
func (d *rangeDecoder) bitLogP(logp uint) bool {
	s := d.rng >> logp
	one := d.val < s
	if one {
		d.rng = s
	} else {
		d.val -= s
		d.rng -= s
	}
	d.normalize()
	return one
}
