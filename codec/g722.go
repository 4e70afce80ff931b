package codec

// g722Rate is G.722's audio sample rate; its RTP clock is 8000 (RFC 3551 section 4.5.2).
const g722Rate = 16000

// g722MaxBytes is the largest G.722 payload in bytes: MaxPacketDuration at one byte per two
// 16 kHz samples (64 kbit/s).
const g722MaxBytes = MaxPacketSamples / (SampleRate / g722Rate) / 2

// G722Encoder encodes 48 kHz PCM into ITU-T G.722 payloads at 64 kbit/s (RTP payload type 9,
// RFC 3551): it resamples to 16 kHz, then runs the sub-band ADPCM encoder of g722adpcm.go, which
// is bit-exact with spandsp. One byte carries two 16 kHz samples: 160 bytes per 20 ms, and the
// RTP timestamp advances by 160 per 20 ms too, because RFC 3551 keeps RFC 1890's clock of 8000.
type G722Encoder struct {
	lowRateEncoder
	state g722State
	wide  [g722MaxBytes * 2]int16
}

// newG722Encoder makes an encoder for a validated, normalised G.722 format.
func newG722Encoder(f Format) (*G722Encoder, error) {
	low, err := newLowRateEncoder(f, g722Rate)
	if err != nil {
		return nil, err
	}
	e := &G722Encoder{lowRateEncoder: low}
	e.state.reset()
	return e, nil
}

// Encode resamples exactly Format().Samples() samples of 48 kHz PCM to 16 kHz and encodes them
// into dst, returning Format().Samples()/6 bytes. It allocates nothing.
func (e *G722Encoder) Encode(pcm []int16, dst []byte) (int, error) {
	const ratio = SampleRate / g722Rate
	wide, err := e.downsample(pcm, e.wide[:], ratio, dst, e.samples/ratio/2)
	if err != nil {
		return 0, err
	}
	n := len(wide) / 2
	e.state.encode(wide, dst[:n])
	return n, nil
}

// Reset returns the ADPCM state and the resampler to their start.
func (e *G722Encoder) Reset() {
	e.down.Reset()
	e.state.reset()
}

// String describes the encoder, e.g. "g722-enc(G722/8000 20ms)".
func (e *G722Encoder) String() string { return "g722-enc(" + e.format.String() + ")" }

// G722Decoder decodes G.722 payloads at 64 kbit/s into 48 kHz PCM: the sub-band ADPCM decoder of
// g722adpcm.go, then a Resampler from 16 kHz. It conceals losses at 16 kHz with the same
// pitch-repetition concealment as G.711 (pitchPLC), leaving the ADPCM state as it was: its
// adaptation converges again within a few milliseconds of the next packet.
type G722Decoder struct {
	state g722State
	up    *Resampler
	plc   pitchPLC
	wide  [g722MaxBytes * 2]int16
}

// newG722Decoder makes a G.722 decoder.
func newG722Decoder() (*G722Decoder, error) {
	up, err := NewResampler(g722Rate, SampleRate)
	if err != nil {
		return nil, err
	}
	d := &G722Decoder{up: up, plc: newPitchPLC(g722Rate)}
	d.state.reset()
	return d, nil
}

// g722Limit refuses an empty G.722 payload or one longer than MaxPacketDuration; a byte is two
// 16 kHz samples.
var g722Limit = newPayloadLimit("g722", g722MaxBytes, 2*(SampleRate/g722Rate))

// Duration returns 6 samples at SampleRate per payload byte (two at 16 kHz), or
// ErrCorruptPayload for an empty payload or one longer than MaxPacketDuration.
func (d *G722Decoder) Duration(payload []byte) (int, error) { return g722Limit.duration(payload) }

// Decode decodes payload into pcm at 48 kHz and returns len(payload)·6. After a loss it
// cross-fades from the concealment into the new audio. It allocates nothing.
func (d *G722Decoder) Decode(payload []byte, pcm []int16) (int, error) {
	n, err := g722Limit.fits(payload, pcm)
	if err != nil {
		return 0, err
	}
	wide := d.wide[:2*len(payload)]
	d.state.decode(payload, wide)
	d.plc.good(wide)
	return d.up.Process(wide, pcm[:n]), nil
}

// Conceal fills pcm with a continuation of the audio for a lost packet and returns len(pcm)
// (pitchPLC). len(pcm) must be a positive multiple of 3 samples (one 16 kHz sample) up to
// MaxPacketSamples.
func (d *G722Decoder) Conceal(pcm []int16) (int, error) {
	return concealUpsampled(&d.plc, d.up, d.wide[:], SampleRate/g722Rate, pcm)
}

// DecodeFEC returns ErrNoFEC: G.722 carries no redundancy.
func (d *G722Decoder) DecodeFEC(payload []byte, pcm []int16) (int, error) { return 0, ErrNoFEC }

// Reset returns the decoder to its start, as for a new stream.
func (d *G722Decoder) Reset() {
	d.state.reset()
	d.up.Reset()
	d.plc.reset()
}

// Codec returns G722.
func (d *G722Decoder) Codec() Codec { return G722 }

// String describes the decoder: "g722-dec(G722/8000)".
func (d *G722Decoder) String() string { return "g722-dec(G722/8000)" }
