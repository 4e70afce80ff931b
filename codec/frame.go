package codec

import "time"

// SampleRate is the rate, in Hz, of every Frame: the rate at which confd mixes.
const SampleRate = 48000

// FrameDuration is the duration of one Frame and of one mixer tick.
const FrameDuration = 20 * time.Millisecond

// FrameSamples is the number of samples in one Frame (20 ms at 48 kHz).
const FrameSamples = SampleRate / 50

// MaxPacketDuration is the longest packet time confd accepts in either direction (RFC 7587 allows
// Opus packets of up to 120 ms).
const MaxPacketDuration = 120 * time.Millisecond

// MaxPacketSamples is MaxPacketDuration expressed in samples at SampleRate: the size of a PCM
// buffer that can hold any one decoded packet.
const MaxPacketSamples = SampleRate * int(MaxPacketDuration/time.Millisecond) / 1000

// MaxPayloadSize is the largest RTP payload an encoder writes and a buffer must hold for one
// packet: an Opus packet is at most 1275 bytes per frame (RFC 6716 section 3.2.1) and a 120 ms
// G.711 packet is 960 bytes.
const MaxPayloadSize = 1500

// Frame is 20 ms of mono, signed 16-bit PCM at SampleRate. It is a fixed-size array so that frames
// can be allocated once and reused for the life of a leg or a room.
type Frame [FrameSamples]int16

// Clear sets every sample of f to zero.
func (f *Frame) Clear() { clear(f[:]) }

// StereoFrame is 20 ms of stereo PCM at SampleRate, interleaved left/right (left first, as libopus
// takes it): what a stereo Opus encoder (Format.Stereo) is fed, one StereoFrame per tick.
type StereoFrame [2 * FrameSamples]int16
