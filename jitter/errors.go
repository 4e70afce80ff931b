package jitter

import "errors"

var (
	// ErrUnknownPayloadType is returned by Push for an RTP payload type (RFC 3550 section 5.1)
	// that the buffer's Config does not list. The packet is dropped and counted as invalid.
	ErrUnknownPayloadType = errors.New("jitter: unknown payload type")
	// ErrPayloadTooLarge is returned by Push for a payload longer than Config.MaxPayloadSize.
	// The packet is dropped and counted as invalid.
	ErrPayloadTooLarge = errors.New("jitter: payload larger than the maximum")
	// ErrEmptyPayload is returned by Push for an audio packet without payload, which no audio RTP
	// payload format allows (an Opus packet has at least its TOC byte, RFC 6716 section 3.1;
	// G.711 carries a byte per sample, RFC 3551 section 4.5.14). The packet is dropped and
	// counted as invalid.
	ErrEmptyPayload = errors.New("jitter: empty audio payload")
	// ErrBadConfig is returned by New when a Config setting is out of range.
	ErrBadConfig = errors.New("jitter: bad config")
)
