package codec

import "fmt"

// payloadLimit is how a decoder of fixed-size samples (G.711, G.722) measures and refuses a
// payload: every byte stands for perByte samples at SampleRate, and a payload holds at most
// maxBytes (MaxPacketDuration). Its errors are made once so that refusing allocates nothing.
type payloadLimit struct {
	maxBytes, perByte int
	empty, tooLong    error
}

// newPayloadLimit returns the limit of the codec named name (as errors say it).
func newPayloadLimit(name string, maxBytes, perByte int) payloadLimit {
	return payloadLimit{
		maxBytes: maxBytes,
		perByte:  perByte,
		empty:    fmt.Errorf("%w: %s: empty payload", ErrCorruptPayload, name),
		tooLong:  fmt.Errorf("%w: %s: payload longer than %v", ErrCorruptPayload, name, MaxPacketDuration),
	}
}

// duration returns the samples at SampleRate that payload decodes to, or ErrCorruptPayload for
// an empty payload or one longer than MaxPacketDuration.
func (l payloadLimit) duration(payload []byte) (int, error) {
	switch {
	case len(payload) == 0:
		return 0, l.empty
	case len(payload) > l.maxBytes:
		return 0, l.tooLong
	}
	return len(payload) * l.perByte, nil
}

// fits returns what duration returns, or ErrShortBuffer when pcm cannot hold it.
func (l payloadLimit) fits(payload []byte, pcm []int16) (int, error) {
	n, err := l.duration(payload)
	if err != nil {
		return 0, err
	}
	if len(pcm) < n {
		return 0, ErrShortBuffer
	}
	return n, nil
}

// concealUpsampled fills pcm for a lost packet from a decoder that works at a lower rate, ratio
// samples at SampleRate to one of its own: plc continues the audio in low (the decoder's
// buffer, at least MaxPacketSamples/ratio long) and up raises it to SampleRate. len(pcm) must be
// a positive multiple of ratio up to MaxPacketSamples, or it returns ErrBadPacketSize.
func concealUpsampled(plc *pitchPLC, up *Resampler, low []int16, ratio int, pcm []int16) (int, error) {
	n := len(pcm)
	if n == 0 || n%ratio != 0 || n > MaxPacketSamples {
		return 0, ErrBadPacketSize
	}
	low = low[:n/ratio]
	plc.conceal(low)
	return up.Process(low, pcm), nil
}

// checkExpectedLoss refuses an expected loss outside 0–100 percent, for every encoder alike.
func checkExpectedLoss(percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("%w: expected loss %d%% outside 0-100", ErrBadFormat, percent)
	}
	return nil
}

// lowRateEncoder is what the G.711 and G.722 encoders share: their format, a packet's samples at
// SampleRate, and the resampler down to the codec's own rate. Neither codec has FEC.
type lowRateEncoder struct {
	format  Format
	samples int // samples at SampleRate per packet
	down    *Resampler
}

// newLowRateEncoder returns the shared part of an encoder of f that works at rate.
func newLowRateEncoder(f Format, rate int) (lowRateEncoder, error) {
	down, err := NewResampler(SampleRate, rate)
	if err != nil {
		return lowRateEncoder{}, err
	}
	return lowRateEncoder{format: f, samples: f.Samples(), down: down}, nil
}

// SetExpectedLoss does nothing: G.711 and G.722 have no FEC. It accepts 0–100 like the Opus
// encoder.
func (e *lowRateEncoder) SetExpectedLoss(percent int) error { return checkExpectedLoss(percent) }

// Format returns the normalised Format the encoder produces.
func (e *lowRateEncoder) Format() Format { return e.format }

// downsample resamples pcm, which must be exactly one packet, into the start of low, ratio
// samples at SampleRate to one of low's, and returns what it wrote; ErrBadPacketSize for another
// length of pcm, ErrShortBuffer when dst is shorter than the packet's bytes.
func (e *lowRateEncoder) downsample(pcm, low []int16, ratio int, dst []byte, bytes int) ([]int16, error) {
	if len(pcm) != e.samples {
		return nil, ErrBadPacketSize
	}
	if len(dst) < bytes {
		return nil, ErrShortBuffer
	}
	low = low[:e.samples/ratio]
	e.down.Process(pcm, low)
	return low, nil
}
