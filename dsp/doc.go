// Package dsp cleans a participant's voice before it is mixed: noise suppression (speexdsp's
// preprocessor, speex_preprocess.h, through cgo, followed by an 80 Hz high-pass) and a
// speech-gated automatic gain control, on the mixer's 20 ms mono frames at 48 kHz.
//
// It is part of the media floor (with codec, dtmf, jitter and mixer): it owns no goroutine and no
// timer and imports neither pion nor sipgo. The mixer calls a Preprocessor (through its Processor
// interface) only for the talkers it mixes, which it decodes anyway, so a silent room pays
// nothing; the bridge makes one per participant that has the feature on and closes it when the
// participant leaves or the feature is turned off.
//
// # Why speexdsp, at 48 kHz
//
// RNNoise (what Janus's AudioBridge uses) is not packaged in Debian bookworm (no librnnoise-dev),
// and speexdsp is (libspeexdsp1, BSD), as Asterisk's DENOISE() and AGC() use it. Measured here
// (preprocessor_test.go, tone bursts at -20 dBov under noise at -35 dBov): broadband noise
// between the bursts 16.8 dB (white) and 15.7 dB (pink) lower, under the tone 15.4 and 11.9 dB
// lower, the tone within 0.1 dB. Run at 16 kHz for a narrowband leg (down, denoise, up) it removes
// no more noise (11.1 dB against 11.5 dB at 48 kHz on G.711-band audio, narrowband_test.go), adds
// 1.7 ms of delay and saves little of what a talker costs (the two resamplings eat most of what the
// smaller FFT saves: bench/README.md), so every leg runs at 48 kHz. speexdsp adds 10 ms of delay
// (its analysis windows overlap by one 10 ms subframe).
//
// Like any suppressor that tracks the minima of the spectrum, it takes whatever never pauses for
// noise: a steady tone or music held for seconds fades out (TestSteadyToneFades). Speech pauses
// between syllables and is kept.
//
// Its AGC is not used: it takes broadband noise for speech and pumps it up (see Preprocessor).
// The AGC here (agc.go) moves its gain only on frames that stand 9 dB above a tracked noise floor
// (codec.NoiseFloor, the one the mixer's talker detection uses).
//
// # Cost
//
// About 60 µs of CPU per talker per tick with denoise and 4 µs with AGC alone, measured in a room
// by go test -run '^$' -bench RoomPreprocess ./bench/ on the project's shared 2-core machine
// (bench/README.md has the figures; go test -bench Process ./dsp/ times one preprocessor alone).
package dsp
