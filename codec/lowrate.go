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
