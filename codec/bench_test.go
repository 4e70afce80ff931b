package codec

import (
	"testing"

	"confd/testkit/audiotest"
)

// The benchmarks report µs per 20 ms frame (the mixer's tick) for each codec operation, plus
// allocations; go test -bench . ./codec/ prints them. DESIGN-NOTES.md lists the targets.

// reportPerFrame reports the mean time of one iteration in µs as "µs/frame".
func reportPerFrame(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1000/float64(b.N), "µs/frame")
}

// benchFormats are the encoder settings benchmarked.
var benchFormats = []struct {
	name   string
	format Format
}{
	{"opus-c5", Format{Codec: Opus}},
	{"opus-c10", Format{Codec: Opus, Complexity: 10}},
	{"opus-c5-fec10", Format{Codec: Opus, ExpectedLoss: 10}},
	{"pcmu", Format{Codec: PCMU}},
	{"pcma", Format{Codec: PCMA}},
	{"g722", Format{Codec: G722}},
}

// benchPayloads returns 50 consecutive payloads (1 s) of a speech-like two-tone signal in f.
func benchPayloads(b *testing.B, f Format) [][]byte {
	enc, err := NewEncoder(f)
	if err != nil {
		b.Fatal(err)
	}
	low, high := audiotest.NewTone(220, 0.2, SampleRate), audiotest.NewTone(1800, 0.05, SampleRate)
	var fr, hf Frame
	out := make([][]byte, 0, 50)
	dst := make([]byte, MaxPayloadSize)
	for i := 0; i < 50; i++ {
		low.Fill(fr[:])
		high.Fill(hf[:])
		for j := range fr {
			fr[j] += hf[j]
		}
		n, err := enc.Encode(fr[:], dst)
		if err != nil || n == 0 {
			b.Fatalf("encode: %d, %v", n, err)
		}
		out = append(out, append([]byte(nil), dst[:n]...))
	}
	return out
}

func BenchmarkEncode(b *testing.B) {
	for _, bf := range benchFormats {
		b.Run(bf.name, func(b *testing.B) {
			enc, _ := NewEncoder(bf.format)
			frames := make([]Frame, 50)
			tone := audiotest.NewTone(220, 0.3, SampleRate)
			for i := range frames {
				tone.Fill(frames[i][:])
			}
			benchEncodes(b, enc, func(i int) []int16 { return frames[i][:] })
		})
	}
}

// benchEncodes times enc over the 50 frames that frame(0..49) returns, in a loop.
func benchEncodes(b *testing.B, enc Encoder, frame func(int) []int16) {
	dst := make([]byte, MaxPayloadSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := enc.Encode(frame(i%50), dst); err != nil {
			b.Fatal(err)
		}
	}
	reportPerFrame(b)
}

func BenchmarkDecode(b *testing.B) {
	for _, bf := range benchFormats {
		b.Run(bf.name, func(b *testing.B) {
			payloads := benchPayloads(b, bf.format)
			dec, _ := NewDecoder(bf.format.Codec)
			pcm := make([]int16, MaxPacketSamples)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := dec.Decode(payloads[i%50], pcm); err != nil {
					b.Fatal(err)
				}
			}
			reportPerFrame(b)
		})
	}
}

func BenchmarkConceal(b *testing.B) {
	for _, c := range []Codec{Opus, PCMU, G722} {
		b.Run(c.String(), func(b *testing.B) {
			payloads := benchPayloads(b, Format{Codec: c})
			dec, _ := NewDecoder(c)
			pcm := make([]int16, MaxPacketSamples)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Every other frame lost, so that each concealment starts from real audio.
				if i%2 == 0 {
					dec.Decode(payloads[i%50], pcm)
					continue
				}
				if _, err := dec.Conceal(pcm[:FrameSamples]); err != nil {
					b.Fatal(err)
				}
			}
			reportPerFrame(b) // per frame, decoded and concealed alike
		})
	}
}

func BenchmarkDecodeFEC(b *testing.B) {
	var payloads [][]byte
	for _, p := range benchPayloads(b, Format{Codec: Opus, ExpectedLoss: 10}) {
		if OpusHasFEC(p) {
			payloads = append(payloads, p)
		}
	}
	b.Logf("%d of 50 packets carry FEC", len(payloads))
	dec, _ := NewDecoder(Opus)
	pcm := make([]int16, MaxPacketSamples)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dec.DecodeFEC(payloads[i%len(payloads)], pcm[:FrameSamples]); err != nil {
			b.Fatal(err)
		}
	}
	reportPerFrame(b)
}

func BenchmarkInspect(b *testing.B) {
	opusP := benchPayloads(b, Format{Codec: Opus, ExpectedLoss: 10})[10]
	g711P := benchPayloads(b, Format{Codec: PCMU})[10]
	b.Run("OpusPacketSamples", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			OpusPacketSamples(opusP)
		}
	})
	b.Run("OpusHasFEC", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			OpusHasFEC(opusP)
		}
	})
	b.Run("G711Level", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			G711Level(g711P, PCMU)
		}
	})
}
