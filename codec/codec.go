package codec

// Encoder turns PCM at SampleRate into RTP payloads of one Format. One Encoder serves one output
// group: every leg whose Format is equal borrows the same payload.
//
// Implementations allocate nothing in Encode and are not safe for concurrent use: a room's
// goroutine owns its encoders.
type Encoder interface {
	// Encode encodes exactly one packet time of PCM at SampleRate (Format().Samples() samples
	// per channel, Format().Channels() channels interleaved: mono except stereo Opus) into dst and returns the payload length. A length of 0 means "send nothing"
	// (Opus DTX between its keep-alive frames, RFC 7587 section 3.1.3). dst should be at least
	// MaxPayloadSize bytes.
	Encode(pcm []int16, dst []byte) (int, error)
	// SetExpectedLoss changes the expected packet loss in percent (0-100) without losing the
	// encoder's state, turning Opus in-band FEC on above 0. Codecs without FEC ignore it.
	SetExpectedLoss(percent int) error
	// Format returns the Format the encoder produces, normalised.
	Format() Format
	// Reset drops the encoder's history, as if newly made; used when a listener's mix changes
	// abruptly and old state would only smear.
	Reset()
	// String describes the encoder for pipeline printouts.
	String() string
}

// Decoder turns RTP payloads of one Codec into PCM at SampleRate, and conceals lost packets.
//
// Implementations allocate nothing per call and are not safe for concurrent use.
type Decoder interface {
	// Decode decodes one RTP payload into pcm (mono, SampleRate) and returns the number of
	// samples written. pcm must hold the packet's whole duration; MaxPacketSamples always does.
	Decode(payload []byte, pcm []int16) (int, error)
	// Conceal fills pcm with a continuation of the audio for a lost packet (packet loss
	// concealment, PLC) and returns len(pcm). len(pcm) must be a multiple of 10 ms
	// (SampleRate/100 samples) for Opus (a multiple of 2.5 ms is the libopus rule).
	Conceal(pcm []int16) (int, error)
	// DecodeFEC recovers len(pcm) samples of the packet lost just before payload from the
	// in-band FEC data that payload carries (Opus LBRR, RFC 6716 section 2.1.7), and returns
	// len(pcm). It returns ErrNoFEC when the codec or the payload has none: conceal instead.
	DecodeFEC(payload []byte, pcm []int16) (int, error)
	// Duration returns the number of samples at SampleRate that payload decodes to, without
	// decoding it, or an error if the payload is malformed.
	Duration(payload []byte) (int, error)
	// Reset drops the decoder's history, as after a stream restart (new SSRC).
	Reset()
	// Codec returns the codec this decoder decodes.
	Codec() Codec
	// String describes the decoder for pipeline printouts.
	String() string
}
