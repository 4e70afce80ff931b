package codec

import (
	"fmt"
	"strings"

	"github.com/zaf/g711"
)

// g711Ratio is how many samples at SampleRate make one G.711 sample at 8 kHz.
const g711Ratio = SampleRate / 8000

// g711MaxSamples is the most 8 kHz samples one packet holds (MaxPacketDuration).
const g711MaxSamples = MaxPacketSamples / g711Ratio

// G711Encoder encodes 48 kHz PCM into G.711 µ-law (PCMU) or A-law (PCMA) payloads (ITU-T G.711,
// RTP payload types 0 and 8 of RFC 3551): it resamples to 8 kHz with a Resampler, then encodes
// each sample with zaf/g711's per-sample functions (its slice functions allocate). A payload is
// one byte per 8 kHz sample: 160 bytes per 20 ms.
type G711Encoder struct {
	lowRateEncoder
	encode func(int16) uint8
	narrow [g711MaxSamples]int16
}

// newG711Encoder makes an encoder for a validated, normalised PCMU or PCMA format.
func newG711Encoder(f Format) (*G711Encoder, error) {
	low, err := newLowRateEncoder(f, 8000)
	if err != nil {
		return nil, err
	}
	e := &G711Encoder{lowRateEncoder: low, encode: g711.EncodeUlawFrame}
	if f.Codec == PCMA {
		e.encode = g711.EncodeAlawFrame
	}
	return e, nil
}

// Encode resamples exactly Format().Samples() samples of 48 kHz PCM to 8 kHz and writes their
// G.711 bytes into dst, returning Format().Samples()/6. It allocates nothing.
func (e *G711Encoder) Encode(pcm []int16, dst []byte) (int, error) {
	narrow, err := e.downsample(pcm, e.narrow[:], g711Ratio, dst, e.samples/g711Ratio)
	if err != nil {
		return 0, err
	}
	for i, s := range narrow {
		dst[i] = e.encode(s)
	}
	return len(narrow), nil
}

// Reset clears the resampler's history.
func (e *G711Encoder) Reset() { e.down.Reset() }

// String describes the encoder, e.g. "pcmu-enc(PCMU/8000 20ms)".
func (e *G711Encoder) String() string {
	return strings.ToLower(e.format.Codec.String()) + "-enc(" + e.format.String() + ")"
}

// G711Decoder decodes G.711 µ-law or A-law payloads to 48 kHz PCM: each byte through zaf/g711's
// per-sample table, then a Resampler from 8 kHz. It conceals losses at 8 kHz, before upsampling,
// in the manner of G.711 Appendix I (see pitchPLC), so the resampler's stream stays continuous.
type G711Decoder struct {
	codec  Codec
	decode func(uint8) int16
	up     *Resampler
	plc    pitchPLC
	narrow [g711MaxSamples]int16
}

// newG711Decoder makes a decoder for PCMU or PCMA.
func newG711Decoder(c Codec) (*G711Decoder, error) {
	up, err := NewResampler(8000, SampleRate)
	if err != nil {
		return nil, err
	}
	d := &G711Decoder{codec: c, up: up, decode: g711.DecodeUlawFrame, plc: newPitchPLC(8000)}
	if c == PCMA {
		d.decode = g711.DecodeAlawFrame
	}
	return d, nil
}

// g711Limit refuses an empty G.711 payload or one longer than MaxPacketDuration.
var g711Limit = newPayloadLimit("g711", g711MaxSamples, g711Ratio)

// Duration returns 6 samples at SampleRate per payload byte, or ErrCorruptPayload for an empty
// payload or one longer than MaxPacketDuration.
func (d *G711Decoder) Duration(payload []byte) (int, error) { return g711Limit.duration(payload) }

// Decode decodes payload into pcm at 48 kHz and returns len(payload)·6. After a loss it
// cross-fades from the concealment into the new audio. It allocates nothing.
func (d *G711Decoder) Decode(payload []byte, pcm []int16) (int, error) {
	n, err := g711Limit.fits(payload, pcm)
	if err != nil {
		return 0, err
	}
	narrow := d.narrow[:len(payload)]
	for i, b := range payload {
		narrow[i] = d.decode(b)
	}
	d.plc.good(narrow)
	return d.up.Process(narrow, pcm[:n]), nil
}

// Conceal fills pcm with a continuation of the audio for a lost packet and returns len(pcm):
// the last pitch period repeated, fading out from 10 ms into the loss and silent after 60 ms
// (pitchPLC). len(pcm) must be a positive multiple of 6 samples (one 8 kHz sample) up to
// MaxPacketSamples.
func (d *G711Decoder) Conceal(pcm []int16) (int, error) {
	return concealUpsampled(&d.plc, d.up, d.narrow[:], g711Ratio, pcm)
}

// DecodeFEC returns ErrNoFEC: G.711 carries no redundancy.
func (d *G711Decoder) DecodeFEC(payload []byte, pcm []int16) (int, error) { return 0, ErrNoFEC }

// Reset drops the decoder's history (resampler and concealment), as for a new stream.
func (d *G711Decoder) Reset() {
	d.up.Reset()
	d.plc.reset()
}

// Codec returns PCMU or PCMA.
func (d *G711Decoder) Codec() Codec { return d.codec }

// String describes the decoder, e.g. "pcmu-dec(PCMU/8000)".
func (d *G711Decoder) String() string {
	return fmt.Sprintf("%s-dec(%s/%d)", strings.ToLower(d.codec.String()), d.codec, d.codec.ClockRate())
}

// G711Level returns the RFC 6464 level of a PCMU or PCMA payload from its raw 8 kHz samples, as
// LevelOf would for the decoded audio, without resampling or allocating: the mixer uses it to
// choose talkers without decoding. It returns Silence for an empty payload or another codec.
func G711Level(payload []byte, c Codec) Level {
	if len(payload) == 0 {
		return Silence
	}
	decode := g711.DecodeUlawFrame
	switch c {
	case PCMU:
	case PCMA:
		decode = g711.DecodeAlawFrame
	default:
		return Silence
	}
	var sum uint64
	for _, b := range payload {
		v := int64(decode(b))
		sum += uint64(v * v)
	}
	return levelFromMeanSquare(float64(sum) / float64(len(payload)))
}
