package codec

import "errors"

var (
	// ErrUnknownCodec is returned when a Format names a codec that confd does not implement.
	ErrUnknownCodec = errors.New("codec: unknown codec")
	// ErrBadFormat is returned when a Format's settings are out of range (packet time, bitrate,
	// complexity, loss percentage).
	ErrBadFormat = errors.New("codec: format settings out of range")
	// ErrShortBuffer is returned when a caller's PCM or payload buffer is too small for the result.
	ErrShortBuffer = errors.New("codec: buffer too short")
	// ErrBadPacketSize is returned when the PCM handed to an encoder is not one packet time long.
	ErrBadPacketSize = errors.New("codec: pcm is not one packet time long")
	// ErrCorruptPayload is returned when a payload cannot be decoded.
	ErrCorruptPayload = errors.New("codec: corrupt payload")
	// ErrNoFEC is returned by DecodeFEC when the codec or the payload carries no forward error
	// correction data; the caller should conceal instead.
	ErrNoFEC = errors.New("codec: no FEC data")
)
