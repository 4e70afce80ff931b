// Package codec holds confd's audio formats and the codecs that move audio between RTP payloads
// and PCM: Opus (RFC 6716, RTP payload format RFC 7587), G.711 µ-law and A-law (ITU-T G.711,
// RFC 3551), G.722 at 64 kbit/s (ITU-T G.722, RFC 3551), and the resamplers between the codecs'
// rates and the mixing rate. NewEncoder and NewDecoder are the registry of all of them.
//
// Everything inside confd mixes 20 ms Frames of mono 16-bit PCM at SampleRate (48 kHz). Encoders
// take PCM at SampleRate and decoders produce PCM at SampleRate; a codec whose own rate differs
// (G.711 at 8 kHz, G.722 at 16 kHz) resamples inside, so the rest of the engine sees one rate
// only.
//
// Why 48 kHz: Opus, the codec of every browser, runs natively at 48 kHz, so Opus legs — the
// common case and the expensive one — pay no resampling at all and keep their full band. G.711 and
// G.722 legs pay one polyphase resampler each way (about 15 µs per frame, see Resampler), which
// is small next to an Opus encode.
//
// The mixer learns what it can without decoding: OpusPacketSamples, OpusIsDTX and OpusHasFEC
// read an Opus packet's framing in pure Go, and G711Level measures a G.711 payload's level.
//
// Nothing here owns a goroutine or a timer, and the per-frame paths (Encode, Decode, Conceal,
// DecodeFEC, Resample) allocate nothing: callers pass preallocated buffers.
package codec
