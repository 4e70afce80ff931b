package codec

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"gopkg.in/hraban/opus.v2"
)

// OpusEncoder encodes 48 kHz mono PCM (stereo, interleaved left/right, when Format.Stereo) into
// Opus payloads for the RTP payload format of RFC 7587 (always "opus/48000/2" in SDP, RTP clock
// 48 kHz) through libopus, in its VoIP application (or its restricted low-delay one for
// Format.LowDelay).
//
// DTX (RFC 7587 section 3.1.3), on unless Format.NoDTX: during silence libopus returns packets of
// one or two bytes (a bare TOC), which opus.h says need not be transmitted; Encode returns 0 for
// them, meaning "send nothing". About every 400 ms of silence libopus instead emits a larger
// packet of comfort noise, which keeps the receiver's noise estimate and NAT bindings alive; Encode
// returns that one like any other packet. With DTX off every packet is returned.
//
// libopus (1.3.1 here) decides DTX with SILK's voice detector, which learns a steady signal as
// background noise: a constant tone at -20 dBFS was dropped into DTX after about one second and
// 85% of the frames after that, so hold music, test tones and DTMF-like signals would reach
// listeners as comfort noise. Encode therefore lets libopus use DTX only for frames whose level
// (LevelOf) is at or below opusDTXLevel (-50 dBov); louder frames are always sent. Silence, the
// common case of a mix where nobody talks, still goes to DTX as before.
//
// In-band FEC (RFC 6716 section 2.1.7) is turned on whenever the expected loss is above zero and
// Format.NoFEC is not set, because libopus only spends bits on LBRR data when told to expect loss.
type OpusEncoder struct {
	enc     opus.Encoder
	format  Format
	samples int
	dtxOn   bool // whether libopus's DTX is on now (see Encode)
}

// OpusVersion returns the version string of the libopus confd is running with (RFC 6716's
// reference implementation, opus_get_version_string), e.g. "libopus 1.3.1": the shared library
// loaded at run time, which may be newer than the one confd was built against.
func OpusVersion() string { return opus.Version() }

// opusDTXLevel is the loudest frame that libopus may turn into DTX; see OpusEncoder.
const opusDTXLevel Level = -50

// newOpusEncoder makes an encoder for a validated, normalised Opus format.
func newOpusEncoder(f Format) (*OpusEncoder, error) {
	e := &OpusEncoder{format: f, samples: f.Samples() * f.Channels()}
	app := opus.AppVoIP
	if f.LowDelay {
		app = opus.AppRestrictedLowdelay
	}
	if err := e.enc.Init(SampleRate, f.Channels(), app); err != nil {
		return nil, fmt.Errorf("codec: opus encoder: %w", err)
	}
	if err := e.configure(); err != nil {
		return nil, err
	}
	return e, nil
}

// configure applies e.format to the libopus encoder; Reset loses nothing of it because
// OPUS_RESET_STATE keeps the settings.
func (e *OpusEncoder) configure() error {
	f := e.format
	complexity := f.Complexity
	if complexity == ComplexityZero {
		complexity = 0
	}
	steps := []struct {
		name string
		err  error
	}{
		{"bitrate", e.enc.SetBitrate(f.Bitrate)},
		{"complexity", e.enc.SetComplexity(complexity)},
		{"dtx", e.enc.SetDTX(!f.NoDTX)},
		{"fec", e.enc.SetInBandFEC(f.ExpectedLoss > 0 && !f.NoFEC)},
		{"loss", e.enc.SetPacketLossPerc(f.ExpectedLoss)},
	}
	for _, s := range steps {
		if s.err != nil {
			return fmt.Errorf("%w: opus %s: %w", ErrBadFormat, s.name, s.err)
		}
	}
	e.dtxOn = !f.NoDTX
	return nil
}

// Encode encodes exactly Format().Samples() samples of 48 kHz mono PCM (as many interleaved
// left/right pairs for a stereo Format) into dst and returns the payload length, or 0 for a DTX frame that need not be sent (see OpusEncoder). It allocates
// nothing.
func (e *OpusEncoder) Encode(pcm []int16, dst []byte) (int, error) {
	if len(pcm) != e.samples {
		return 0, ErrBadPacketSize
	}
	if len(dst) == 0 {
		return 0, ErrShortBuffer
	}
	if !e.format.NoDTX {
		if quiet := LevelOf(pcm) <= opusDTXLevel; quiet != e.dtxOn {
			if err := e.enc.SetDTX(quiet); err != nil {
				return 0, fmt.Errorf("codec: opus dtx: %w", err)
			}
			e.dtxOn = quiet
		}
	}
	// The binding passes cap(dst) to libopus as the room it has; hide any capacity beyond len.
	n, err := e.enc.Encode(pcm, dst[:len(dst):len(dst)])
	if err != nil {
		if errors.Is(err, opus.ErrBufferTooSmall) {
			return 0, ErrShortBuffer
		}
		return 0, fmt.Errorf("codec: opus encode: %w", err)
	}
	if n <= 2 && !e.format.NoDTX {
		return 0, nil
	}
	return n, nil
}

// SetExpectedLoss sets the packet loss in percent (0–100) that libopus prepares for
// (OPUS_SET_PACKET_LOSS_PERC) and turns in-band FEC on above 0 unless Format.NoFEC, keeping the
// encoder's state. Format() reports the new value afterwards.
func (e *OpusEncoder) SetExpectedLoss(percent int) error {
	if err := checkExpectedLoss(percent); err != nil {
		return err
	}
	if err := e.enc.SetPacketLossPerc(percent); err != nil {
		return fmt.Errorf("codec: opus loss: %w", err)
	}
	if err := e.enc.SetInBandFEC(percent > 0 && !e.format.NoFEC); err != nil {
		return fmt.Errorf("codec: opus fec: %w", err)
	}
	e.format.ExpectedLoss = percent
	return nil
}

// Format returns the normalised Format the encoder produces.
func (e *OpusEncoder) Format() Format { return e.format }

// Reset drops the encoder's history (OPUS_RESET_STATE), keeping its settings.
func (e *OpusEncoder) Reset() { _ = e.enc.Reset() }

// String describes the encoder, e.g. "opus-enc(opus/48000 20ms 32kbit/s c5)".
func (e *OpusEncoder) String() string { return "opus-enc(" + e.format.String() + ")" }

// OpusDecoder decodes Opus payloads (RFC 6716, RFC 7587) into 48 kHz mono PCM through libopus,
// and conceals losses with libopus's PLC or recovers them from in-band FEC. A stereo packet is
// downmixed by libopus.
type OpusDecoder struct {
	dec opus.Decoder
	// mem is the libopus decoder state inside dec and pristine a copy of it as initialised, so
	// that Reset is a copy rather than an allocation: a decoder is reset at the start of every
	// talkspurt after a silence (see jitter), and libopus states hold no pointers (RFC 6716
	// reference code: offsets only), so a byte copy is a valid state.
	mem, pristine []byte
}

// newOpusDecoder makes a decoder at 48 kHz mono.
func newOpusDecoder() (*OpusDecoder, error) {
	d := &OpusDecoder{}
	if err := d.dec.Init(SampleRate, 1); err != nil {
		return nil, fmt.Errorf("codec: opus decoder: %w", err)
	}
	if mem := decoderMemory(&d.dec); mem != nil {
		d.mem, d.pristine = mem, append([]byte(nil), mem...)
	}
	return d, nil
}

// decoderMemory returns the libopus state that hraban/opus keeps in the unexported byte slice
// Decoder.mem, or nil if the binding no longer has it (Reset then allocates a new state).
func decoderMemory(dec *opus.Decoder) []byte {
	v := reflect.ValueOf(dec).Elem().FieldByName("mem")
	if !v.IsValid() || v.Kind() != reflect.Slice || v.Type().Elem().Kind() != reflect.Uint8 || v.Len() == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(v.Pointer())), v.Len())
}

// opusPLCStep is the granularity libopus accepts for concealment and FEC: 2.5 ms at 48 kHz.
const opusPLCStep = SampleRate / 400

// Decode decodes one Opus payload into pcm and returns the number of samples written (the
// packet's duration, see OpusPacketSamples). A DTX payload of one or two bytes decodes to the
// comfort noise or concealment libopus plays in its place. It allocates nothing on success.
func (d *OpusDecoder) Decode(payload []byte, pcm []int16) (int, error) {
	var p opusPacket
	if err := p.parse(payload); err != nil {
		return 0, err
	}
	n := p.samples()
	if n > len(pcm) {
		return 0, ErrShortBuffer
	}
	got, err := d.dec.Decode(payload, pcm[:n:n])
	if err != nil {
		return 0, fmt.Errorf("%w: opus: %w", ErrCorruptPayload, err)
	}
	return got, nil
}

// Conceal fills pcm with libopus's packet loss concealment (a continuation of the last audio
// that fades out over successive losses) and returns len(pcm). len(pcm) must be a positive
// multiple of 2.5 ms (120 samples) up to MaxPacketSamples; 10 ms multiples are typical.
func (d *OpusDecoder) Conceal(pcm []int16) (int, error) {
	n := len(pcm)
	if n == 0 || n%opusPLCStep != 0 || n > MaxPacketSamples {
		return 0, ErrBadPacketSize
	}
	if err := d.dec.DecodePLC(pcm[:n:n]); err != nil {
		return 0, fmt.Errorf("codec: opus plc: %w", err)
	}
	return n, nil
}

// DecodeFEC recovers the len(pcm) samples lost just before payload from the LBRR data in
// payload's first frame (RFC 6716 section 2.1.7), and returns len(pcm); beyond the LBRR frame's
// duration libopus conceals. It returns ErrNoFEC when payload carries no LBRR data (see
// OpusHasFEC): the caller should Conceal instead. Either way the caller decodes payload itself
// afterwards with Decode. len(pcm) must be a positive multiple of 2.5 ms up to MaxPacketSamples.
func (d *OpusDecoder) DecodeFEC(payload []byte, pcm []int16) (int, error) {
	n := len(pcm)
	if n == 0 || n%opusPLCStep != 0 || n > MaxPacketSamples {
		return 0, ErrBadPacketSize
	}
	if !OpusHasFEC(payload) {
		return 0, ErrNoFEC
	}
	if err := d.dec.DecodeFEC(payload, pcm[:n:n]); err != nil {
		return 0, fmt.Errorf("%w: opus fec: %w", ErrCorruptPayload, err)
	}
	return n, nil
}

// Duration returns the payload's duration at 48 kHz (OpusPacketSamples).
func (d *OpusDecoder) Duration(payload []byte) (int, error) { return OpusPacketSamples(payload) }

// Reset drops the decoder's history. The binding has no OPUS_RESET_STATE for decoders, so the
// state is copied back from a snapshot taken at initialisation: no allocation, about 18 KB
// copied.
func (d *OpusDecoder) Reset() {
	if d.mem != nil {
		copy(d.mem, d.pristine) // OPUS_RESET_STATE without cgo access: the state as initialised
		return
	}
	d.dec = opus.Decoder{}
	_ = d.dec.Init(SampleRate, 1) // cannot fail: the same arguments succeeded in newOpusDecoder
}

// Codec returns Opus.
func (d *OpusDecoder) Codec() Codec { return Opus }

// String describes the decoder: "opus-dec(opus/48000)".
func (d *OpusDecoder) String() string { return "opus-dec(opus/48000)" }
