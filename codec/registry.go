package codec

import "fmt"

// NewEncoder returns an encoder for f, whose zero-valued settings take their documented
// defaults (Format.Normalized). It returns an error wrapping ErrUnknownCodec or ErrBadFormat when
// f does not validate, or when confd has no encoder for f.Codec.
func NewEncoder(f Format) (Encoder, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f = f.Normalized()
	switch f.Codec {
	case Opus:
		return newOpusEncoder(f)
	case PCMU, PCMA:
		return newG711Encoder(f)
	case G722:
		return newG722Encoder(f)
	}
	return nil, fmt.Errorf("%w: no encoder for %s", ErrUnknownCodec, f.Codec)
}

// NewDecoder returns a decoder for c, producing PCM at SampleRate. It returns an error wrapping
// ErrUnknownCodec when confd has no decoder for c.
func NewDecoder(c Codec) (Decoder, error) {
	switch c {
	case Opus:
		return newOpusDecoder()
	case PCMU, PCMA:
		return newG711Decoder(c)
	case G722:
		return newG722Decoder()
	}
	return nil, fmt.Errorf("%w: no decoder for %s", ErrUnknownCodec, c)
}
