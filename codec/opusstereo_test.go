package codec

import (
	"testing"

	"gopkg.in/hraban/opus.v2"

	"confd/testkit/audiotest"
)

// TestOpusStereoKeepsChannelsApart encodes a tone on the left channel only through a stereo
// encoder and decodes it with a stereo libopus decoder, as a browser that offered stereo=1 does:
// the right channel must stay far below the left (at 48 kbit/s libopus keeps the image).
func TestOpusStereoKeepsChannelsApart(t *testing.T) {
	f := Format{Codec: Opus, Stereo: true}
	if f.Channels() != 2 || f.Normalized().Bitrate != DefaultStereoBitrate {
		t.Fatalf("stereo format: %d channels, %d bit/s", f.Channels(), f.Normalized().Bitrate)
	}
	if (Format{Codec: PCMU, Stereo: true}).Normalized().Stereo {
		t.Fatal("a G.711 Format kept Stereo")
	}
	enc, err := NewEncoder(f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(make([]int16, FrameSamples), make([]byte, MaxPayloadSize)); err != ErrBadPacketSize {
		t.Fatalf("a mono frame into a stereo encoder: %v, want ErrBadPacketSize", err)
	}
	dec, err := opus.NewDecoder(SampleRate, 2)
	if err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(440, 0.3, SampleRate)
	mono := make([]int16, FrameSamples)
	var in StereoFrame
	out := make([]int16, 2*FrameSamples)
	payload := make([]byte, MaxPayloadSize)
	var left, right []int16
	for i := range 50 {
		tone.Fill(mono)
		for j, s := range mono {
			in[2*j], in[2*j+1] = s, 0
		}
		n, err := enc.Encode(in[:], payload)
		if err != nil || n == 0 {
			t.Fatalf("encode: %d bytes, %v", n, err)
		}
		if _, err := dec.Decode(payload[:n], out); err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			continue
		}
		for j := 0; j < FrameSamples; j++ {
			left, right = append(left, out[2*j]), append(right, out[2*j+1])
		}
	}
	l, r := LevelOf(left), LevelOf(right)
	t.Logf("left %v dBov, right %v dBov", l, r)
	if l < -20 || r > l-20 {
		t.Errorf("left %v dBov, right %v dBov: want the tone on the left and the right 20 dB below", l, r)
	}
}

// BenchmarkEncodeStereo is BenchmarkEncode's tone placed at pan -0.5 through a stereo encoder
// (48 kbit/s, complexity 5): the cost of one stereo listener group's encode against opus-c5's.
func BenchmarkEncodeStereo(b *testing.B) {
	enc, err := NewEncoder(Format{Codec: Opus, Stereo: true})
	if err != nil {
		b.Fatal(err)
	}
	frames := make([]StereoFrame, 50)
	tone := audiotest.NewTone(220, 0.3, SampleRate)
	var mono Frame
	for i := range frames {
		tone.Fill(mono[:])
		for j, s := range mono {
			frames[i][2*j], frames[i][2*j+1] = int16(float64(s)*0.924), int16(float64(s)*0.383)
		}
	}
	benchEncodes(b, enc, func(i int) []int16 { return frames[i][:] })
}
