// Package audiotest checks audio the way a listener would: with sine tones and a frequency
// detector, not by comparing bytes. Every codec, mixer and end-to-end test in confd gives each
// participant its own tone and judges what each one hears with ToneLevel (a Goertzel filter),
// SNR, PeakFrequency (an FFT) and Delay (cross-correlation). It also reads and writes WAV files, for
// real peers such as baresip and for listening to a failing test by ear.
package audiotest
